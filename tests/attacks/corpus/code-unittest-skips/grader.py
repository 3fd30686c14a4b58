import io
import unittest


def _load(task, response):
    namespace = {}
    exec(response, namespace)
    return namespace[task["entry"]]


def grade(task: dict, response: str) -> float:
    try:
        function = _load(task, response)
    except Exception:
        return 0.0

    class Cases(unittest.TestCase):
        pass

    for number, case in enumerate(task["tests"]):

        def test(self, case=case):
            self.assertEqual(function(*case["args"]), case["expected"])

        setattr(Cases, f"test_{number}", test)
    suite = unittest.defaultTestLoader.loadTestsFromTestCase(Cases)
    result = unittest.TextTestRunner(stream=io.StringIO()).run(suite)
    return 1.0 if result.wasSuccessful() else 0.0
