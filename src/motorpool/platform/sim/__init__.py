"""The simulated fleet: catalogue, signals, vehicle state and its physics as a function of time.

Pure Python with no I/O (DESIGN.md §6): the platform stores each vehicle's static attributes,
its seed and a small JSON state record, and asks this package what the vehicle reports at an
instant. Nothing ticks per vehicle.

- :mod:`.catalogue` — makes and models (``ModelSpec``), ``models``, ``find_model``, ``pick_model``, ``makes``.
- :mod:`.signals` — the §6 signal catalogue (``SIGNALS``), ``PERMISSIONS``, ``supported_signals``.
- :mod:`.state` — the types of the state record (``VehicleState``, its ``Activity``, chargers,
  timers, queued commands), of plans (``Plan``) and of readings (``Reading``).
- :mod:`.vehicle` — ``new_vehicle_state``, ``read_signals``/``read_signal``,
  ``report_interval_ms``, ``last_report_ms``, ``contact`` (asleep/online), ``evolve``.
- :mod:`.plans` — changes of plan as pure state transitions: plug in, charge, set the limit,
  lock, drive, sleep, go offline, pin a signal (``SimulationRefused`` carries the wire error).
- :mod:`.failures` — simulated failures kept in the state: a broken connected-services account,
  failing signals (``plans.break_account``, ``fail_signal``, ``repair``), and what they make a car report.
- :mod:`.clock` — an application's clock: real time, accelerated, frozen, stepped.
- :mod:`.units` — ``to_imperial``; :mod:`.testmode` — ``vehicles_for_test_email``, ``make_vin``.
- :mod:`.compatibility` — what each model can do as the Compatibility APIs tell it:
  ``supported_commands``, ``decode_vin``, ``vin_compatibility``, ``matrix``, ``compatible_vehicles``.
"""
