"""The output folder: workspace files, the resume cache, the ledger of written files, the lock, and the checks that keep user data safe."""
