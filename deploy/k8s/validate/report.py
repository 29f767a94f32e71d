"""What the check prints: `OK    <subject>` or `FAIL  <subject>: <why>`, one
line per thing checked, then `<name>: N passed, M failed` (the closing line
CI reads)."""


class Report:
    def __init__(self):
        self.passed = 0
        self.failed = 0

    def ok(self, subject):
        self.passed += 1
        print(f"OK    {subject}", flush=True)

    def fail(self, subject, why):
        self.failed += 1
        print(f"FAIL  {subject}: {why}", flush=True)

    def check(self, condition, subject, why):
        """Records one check: `why` is printed only when `condition` is false."""
        if condition:
            self.ok(subject)
        else:
            self.fail(subject, why)
        return condition

    def info(self, line):
        """A figure worth reading that is neither a pass nor a failure."""
        print(f"      {line}", flush=True)

    def summary(self, name):
        print(f"{name}: {self.passed} passed, {self.failed} failed", flush=True)
