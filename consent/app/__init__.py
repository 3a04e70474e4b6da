"""The application layer: one function per use case, for every audience alike.

Each use case takes parsed input and the actor, calls the domain (which appends the audit and,
where the change has one, its event), commits once, and reports to the ports it is given
(`ports.Metrics`, `ports.RateLimits`; web/ implements them). Views parse, call one function here
and render - the console, the API and the tablet alike. Modules by group: `reads.py` (data reads,
their one category -> loader table), ...
"""
