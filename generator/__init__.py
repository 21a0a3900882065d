"""hocvu: concise, reviewed digital-skills lessons for Vietnam's Bình dân học vụ số movement."""

__version__ = "0.1.0"
