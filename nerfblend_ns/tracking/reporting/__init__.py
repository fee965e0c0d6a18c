"""What a run reports: tracking_report.json's numbers, pose and expression quality, and the contact sheet."""
