from unit_converter_v1.taskset import UnitConverterTaskset

__all__ = ["UnitConverterTaskset"]
