import re
from concurrent.futures import ThreadPoolExecutor

from arl_client.names import MAX_NAME_LENGTH, unique_name

DNS_LABEL = re.compile(r"^[a-z0-9]([-a-z0-9]*[a-z0-9])?$")


def test_names_are_valid_dns_labels():
    for prefix in ["python-pool", "Python_Pool.v2", "x" * 200, "---", "", "a-"]:
        name = unique_name(prefix)
        assert DNS_LABEL.match(name), name
        assert len(name) <= MAX_NAME_LENGTH


def test_names_keep_the_prefix():
    assert unique_name("python-pool").startswith("python-pool-")


def test_many_names_in_the_same_instant_never_collide():
    with ThreadPoolExecutor(max_workers=8) as pool:
        names = list(pool.map(lambda _: unique_name("python-pool"), range(20000)))
    assert len(set(names)) == len(names)
