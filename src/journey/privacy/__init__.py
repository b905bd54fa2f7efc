"""Privacy tooling: prove no identifier reached the warehouse or the logs (``scan``), and delete
landed files once they are loaded and old enough (``retention``).
"""
