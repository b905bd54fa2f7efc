"""journey: patient-journey analytics for hospital patient-experience teams."""

__version__ = "0.1.0"
