"""What analysts and managers see: the static dashboard, the service-recovery worklist, the docs sites."""
