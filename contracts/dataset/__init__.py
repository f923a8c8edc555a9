"""Training-data validation shared by the server (job creation) and the client (local checks/report)."""
