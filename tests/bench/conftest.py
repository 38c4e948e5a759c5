def pytest_configure(config):
    config.addinivalue_line(
        "markers", "bench: the benchmarks' smoke run at tiny size (make bench runs them in full)"
    )
