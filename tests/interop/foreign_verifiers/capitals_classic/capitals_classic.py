import verifiers as vf
from datasets import Dataset


def exact_capital(completion, answer, **kwargs):
    text = completion[-1]["content"].strip()
    return 1.0 if text.lower() == answer.lower() else 0.0


def short_reply(parser, completion):
    reply = parser.parse_answer(completion) or ""
    return 1.0 if len(reply.split()) <= 3 else 0.0


def load_environment(**kwargs):
    dataset = Dataset.from_list(
        [
            {"question": "What is the capital of Australia?", "answer": "Canberra"},
            {"question": "What is the capital of Canada?", "answer": "Ottawa"},
        ]
    )
    parser = vf.Parser()
    rubric = vf.Rubric(funcs=[exact_capital, short_reply], weights=[0.8, 0.2], parser=parser)
    return vf.SingleTurnEnv(dataset=dataset, parser=parser, rubric=rubric, **kwargs)
