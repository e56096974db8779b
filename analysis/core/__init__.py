"""The analysis' pure core: plain functions over plain data (no ORM, no model call), so
each is tested and benchmarked alone. The taxonomy and its ERRANT mapping, the Edit and
analysis data, ERRANT annotation, mistake-family clustering, scoring against references,
templated explanations and the charts."""
