"""Client library for the fine-tuning API: dataset preparation, validation report, jobs and chat."""
