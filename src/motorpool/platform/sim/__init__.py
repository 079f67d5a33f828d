"""The simulated fleet: catalogue, signals, vehicle state and its physics as a function of time.

Pure Python with no I/O: the platform stores each vehicle's state record and asks this package
what the vehicle reports at an instant (see DESIGN.md §6)."""
