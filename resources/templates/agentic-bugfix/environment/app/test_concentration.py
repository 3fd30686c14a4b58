"""A few of the cases the parser must handle (run: python3 -m unittest test_concentration)."""

import unittest

from concentration import parse_concentration


class ParseConcentration(unittest.TestCase):
    def test_whole_number(self):
        self.assertAlmostEqual(parse_concentration("5 mM"), 0.005)

    def test_decimal(self):
        self.assertAlmostEqual(parse_concentration("2.5 uM"), 2.5e-6)

    def test_unknown_unit_is_a_value_error(self):
        with self.assertRaises(ValueError):
            parse_concentration("3 mg")


if __name__ == "__main__":
    unittest.main()
