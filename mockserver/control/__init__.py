"""The /_mock control plane: clock and job control, reset, the dashboard."""
