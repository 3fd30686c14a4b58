import ast


def passes_tests(task, response):
    namespace = {}
    try:
        exec(response, namespace)
        function = namespace[task["entry"]]
    except Exception:
        return 0.0
    passed = 0
    for case in task["tests"]:
        try:
            if function(*case["args"]) == case["expected"]:
                passed += 1
        except Exception:
            pass
    return 1.0 if passed == len(task["tests"]) else 0.0


def documented(task, response):
    try:
        tree = ast.parse(response)
    except (SyntaxError, ValueError):
        return 0.0
    for node in tree.body:
        if isinstance(node, ast.FunctionDef) and node.name == task["entry"]:
            return 1.0 if ast.get_docstring(node) else 0.0
    return 0.0
