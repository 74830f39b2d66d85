"""The check lines shared by check_package.py and check_sample.py: "ok - " /
"not ok - " lines and, last, "N passed, N failed"."""

results = []


def check(cond, what):
    results.append(bool(cond))
    print(("ok - " if cond else "not ok - ") + what)
    return cond


def summary():
    """Prints the last line; returns the exit status (1 when a check failed)."""
    failed = results.count(False)
    print("%d passed, %d failed" % (len(results) - failed, failed))
    return 1 if failed else 0
