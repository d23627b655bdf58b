import platform

import pytest

from seldon_graph.allocator import keep_freed_memory


@pytest.mark.skipif(platform.libc_ver()[0] != "glibc", reason="mallopt thresholds are glibc's")
def test_glibc_accepts_the_thresholds():
    assert keep_freed_memory({}) is True


@pytest.mark.parametrize("name", ["MALLOC_TRIM_THRESHOLD_", "MALLOC_MMAP_THRESHOLD_", "GLIBC_TUNABLES"])
def test_malloc_settings_in_the_environment_win(name):
    assert keep_freed_memory({name: "1048576"}) is False
