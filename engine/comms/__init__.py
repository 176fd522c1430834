"""Communications: the engine's queued messages turned into what a customer receives.

The engine only queues rows in the `outbox`; this package renders them from
templates (`templates`, `context`, `formatting`), checks the templates against
the law (`checks`), and delivers them exactly once (`dispatch`) over e-mail
(`mail`), letters as PDF (`pdf`) and SMS (`sms`), configured by one TOML file
(`config`).
"""
