"""A local S3-compatible server for the `--blob-url` tests: moto in server mode (`moto_server`, from
moto[server] in the test extra) on a free loopback port, started by the test session itself — or the one
`.ci/s3.sh` started, when MOCKSERVER_TEST_S3_ENDPOINT names it. Each test gets a bucket of its own, emptied
and deleted afterwards. Only loopback: the AWS_* variables point boto3 at the local server, with fake
credentials and the instance-metadata lookup off."""

from __future__ import annotations

import contextlib
import os
import secrets
import shutil
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

S3_VAR = "MOCKSERVER_TEST_S3_ENDPOINT"
HOST = "127.0.0.1"


def s3_env(endpoint: str) -> dict[str, str]:
    """What a process (server or test) needs to reach the local S3 server and nothing else."""
    return {"AWS_ENDPOINT_URL_S3": endpoint, "AWS_ACCESS_KEY_ID": "testing", "AWS_SECRET_ACCESS_KEY": "testing",
            "AWS_REGION": "us-east-1", "AWS_DEFAULT_REGION": "us-east-1", "AWS_EC2_METADATA_DISABLED": "true"}


def moto_command() -> str | None:
    beside = Path(sys.executable).with_name("moto_server")
    return str(beside) if beside.exists() else shutil.which("moto_server")


@contextlib.contextmanager
def moto_server() -> Iterator[str]:
    """The endpoint URL of a running moto server: MOCKSERVER_TEST_S3_ENDPOINT's, or one started here."""
    if os.environ.get(S3_VAR):
        yield os.environ[S3_VAR]
        return
    command = moto_command()
    if command is None:
        pytest.skip("moto[server] is not installed (it is in the test extra: make install)")
    from mockserver.testing import free_port
    from tests.watchdog import watch

    port = free_port(HOST)
    proc = subprocess.Popen([command, "-H", HOST, "-p", str(port)], stdin=subprocess.DEVNULL,
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, start_new_session=True)
    watch(proc.pid)
    try:
        deadline = time.monotonic() + 60
        while True:
            with contextlib.suppress(OSError), socket.create_connection((HOST, port), timeout=1):
                break
            if proc.poll() is not None or time.monotonic() > deadline:
                pytest.fail(f"moto_server did not start on {HOST}:{port}")
            time.sleep(0.1)
        yield f"http://{HOST}:{port}"
    finally:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(proc.pid, signal.SIGTERM)
        try:
            proc.wait(10)
        except subprocess.TimeoutExpired:
            os.killpg(proc.pid, signal.SIGKILL)
            proc.wait()


def client(endpoint: str):
    import boto3

    env = s3_env(endpoint)
    return boto3.client("s3", endpoint_url=endpoint, region_name=env["AWS_REGION"],
                        aws_access_key_id=env["AWS_ACCESS_KEY_ID"], aws_secret_access_key=env["AWS_SECRET_ACCESS_KEY"])


@contextlib.contextmanager
def bucket(endpoint: str, monkeypatch: pytest.MonkeyPatch | None = None) -> Iterator[str]:
    """`s3://<a new bucket>/blobs`, with this process's AWS_* variables pointing at `endpoint`."""
    for k, v in s3_env(endpoint).items():
        if monkeypatch is not None:
            monkeypatch.setenv(k, v)
    s3 = client(endpoint)
    name = f"mockserver-{secrets.token_hex(6)}"
    s3.create_bucket(Bucket=name)
    try:
        yield f"s3://{name}/blobs"
    finally:
        for page in s3.get_paginator("list_multipart_uploads").paginate(Bucket=name):
            for up in page.get("Uploads", ()):
                s3.abort_multipart_upload(Bucket=name, Key=up["Key"], UploadId=up["UploadId"])
        for page in s3.get_paginator("list_objects_v2").paginate(Bucket=name):
            for o in page.get("Contents", ()):
                s3.delete_object(Bucket=name, Key=o["Key"])
        s3.delete_bucket(Bucket=name)
        s3.close()
