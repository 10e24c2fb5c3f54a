"""The periodontal chart: exams of six sites per tooth, their indices and the comparison
with the previous exam."""
