"""Fine-tuning jobs: routes, store, the lifecycle simulator and the virtual clock."""
