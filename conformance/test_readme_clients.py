"""The README's "Clients" snippets are what the tests run: boto3's and the AWS CLI's run here as
written (the port changed to the test server's); the Rust and JavaScript SDK snippets are, line
for line, the client functions of tests/rust_sdk.rs and conformance/js/eventbridge.test.mjs; the
docker-compose snippets are docker/compose.yaml and docker/init.json, and the server started
with the compose file's own environment seeds the example and delivers to its SQS queue (moto
standing in for the queue service); the Testcontainers snippets wait for what the server does
(the startup line, the health endpoint)."""

from __future__ import annotations

import json
import re
import shlex

import boto3
import yaml

from support import REPO_ROOT, AwsCli, ServerProcess, raw_call, server_env, wait_for

README_PORT_URL = "http://127.0.0.1:4010"


def section(title: str) -> str:
    readme = (REPO_ROOT / "README.md").read_text()
    start = readme.index(f"## {title}\n")
    end = readme.index("\n## ", start + 1)
    return readme[start:end]


def clients_section() -> str:
    return section("Clients")


def subsection(title: str) -> str:
    section = clients_section()
    start = section.index(f"### {title}\n")
    end = section.find("\n### ", start + 1)
    return section[start:] if end < 0 else section[start:end]


def blocks(text: str, language: str) -> list[str]:
    return re.findall(rf"```{language}\n(.*?)```", text, flags=re.S)


def contains_lines(haystack: str, block: str) -> bool:
    """Whether the block's lines (each stripped of indentation) appear in order, together."""
    want = [line.strip() for line in block.strip().splitlines()]
    have = [line.strip() for line in haystack.splitlines()]
    return any(have[i:i + len(want)] == want for i in range(len(have) - len(want) + 1))


def test_boto3_snippet_runs_as_written(server):
    (snippet,) = blocks(subsection("boto3"), "python")
    assert README_PORT_URL in snippet
    scope: dict = {}
    exec(snippet.replace(README_PORT_URL, server.url), scope)
    names = [bus["Name"] for bus in scope["events"].list_event_buses()["EventBuses"]]
    assert "default" in names
    groups = [group["Name"] for group in scope["scheduler"].list_schedule_groups()["ScheduleGroups"]]
    assert "default" in groups


def cli_args(command: str, url: str) -> tuple[str, list[str]]:
    """`aws SERVICE ARGS --endpoint-url README_URL ...` -> (service, ARGS without the endpoint),
    for AwsCli (which adds --endpoint-url, --region and --output itself)."""
    argv = shlex.split(command.replace("\\\n", " ").replace(README_PORT_URL, url))
    assert argv[0] == "aws", argv
    args = argv[2:]
    i = args.index("--endpoint-url")
    assert args[i + 1] == url, args
    del args[i:i + 2]
    return argv[1], args


def test_aws_cli_snippet_runs_as_written(server):
    (snippet,) = blocks(subsection("AWS CLI"), "sh")
    commands = [line.split("#")[0].strip() for line in snippet.splitlines() if line.startswith("aws ")]
    assert len(commands) == 2, snippet
    for command in commands:
        service, args = cli_args(command, server.url)
        answer = AwsCli(server.url, service=service)(*args)
        assert "EventBuses" in answer or "Schedules" in answer, answer
    exports = [line.split("#")[0].split()[1] for line in snippet.splitlines() if line.startswith("export ")]
    assert exports == [f"AWS_ENDPOINT_URL_EVENTS={README_PORT_URL}", f"AWS_ENDPOINT_URL_SCHEDULER={README_PORT_URL}"]


def test_seed_state_example_applies(start_server, tmp_path):
    (example,) = blocks(section("Seed state at start"), "json")
    init = tmp_path / "init.json"
    init.write_text(example)
    srv = start_server(args=("--init", str(init)))
    events = srv.client()
    assert events.describe_rule(Name="shop", EventBusName="orders")["State"] == "ENABLED"
    eu = boto3.client("events", endpoint_url=srv.url, region_name="eu-west-1",
                      aws_access_key_id="111122223333", aws_secret_access_key="test")
    assert eu.describe_event_bus(Name="eu")["Arn"] == "arn:aws:events:eu-west-1:111122223333:event-bus/eu"
    scheduler = boto3.client("scheduler", endpoint_url=srv.url, region_name="us-east-1",
                             aws_access_key_id="test", aws_secret_access_key="test")
    assert scheduler.get_schedule_group(Name="reports")["State"] == "ACTIVE"


def test_rust_sdk_snippet_is_the_tests_client():
    subsection_text = subsection("AWS SDK for Rust")
    (snippet,) = blocks(subsection_text, "rust")
    tests = (REPO_ROOT / "tests" / "rust_sdk.rs").read_text()
    assert contains_lines(tests, snippet), "the README's Rust client differs from tests/rust_sdk.rs"
    (toml,) = blocks(subsection_text, "toml")
    manifest = (REPO_ROOT / "Cargo.toml").read_text()
    for line in toml.strip().splitlines():
        assert line in manifest, f"{line!r} is not in Cargo.toml's dev-dependencies"


def test_js_sdk_snippet_is_the_suites_client():
    (snippet,) = blocks(subsection("AWS SDK for JavaScript v3"), "js")
    suite = (REPO_ROOT / "conformance" / "js" / "eventbridge.test.mjs").read_text()
    assert contains_lines(suite, snippet), "the README's JavaScript client differs from the suite's"


def compose() -> dict:
    return yaml.safe_load((REPO_ROOT / "docker" / "compose.yaml").read_text())


def test_compose_snippets_are_the_docker_files():
    text = subsection("docker-compose")
    (compose_snippet,) = blocks(text, "yaml")
    assert contains_lines((REPO_ROOT / "docker" / "compose.yaml").read_text(), compose_snippet)
    (init_snippet,) = blocks(text, "json")
    assert json.loads(init_snippet) == json.loads((REPO_ROOT / "docker" / "init.json").read_text())


def test_the_compose_example_seeds_state_and_delivers_to_its_queue(moto, log_dir):
    """The eventbridge service of docker/compose.yaml, run with its environment and mounts mapped
    to this machine: the init file's bus, rule, target and archive exist, and the README's
    put-events reaches the queue service (moto here, ElasticMQ in the compose file)."""
    service = compose()["services"]["eventbridge"]
    env = dict(service["environment"])
    mounts = dict(volume.split(":")[:2][::-1] for volume in service["volumes"] if volume.startswith("./"))
    env["EVENTBRIDGE_LOCAL_INIT"] = str(REPO_ROOT / "docker" / mounts[env["EVENTBRIDGE_LOCAL_INIT"]])
    assert env["AWS_ENDPOINT_URL_SQS"] == "http://sqs:9324"
    assert "sqs" in compose()["services"]
    env["AWS_ENDPOINT_URL_SQS"] = moto.url
    queue_url = moto.sqs().create_queue(QueueName="orders-queue")["QueueUrl"]
    conf = (REPO_ROOT / "docker" / "elasticmq.conf").read_text()
    assert "orders-queue {}" in conf

    base = server_env()
    base.update(env)
    srv = ServerProcess(["--in-memory"], base, log_dir).start()
    try:
        events = srv.client()
        assert events.describe_archive(ArchiveName="orders-archive")["State"] == "ENABLED"
        targets = events.list_targets_by_rule(Rule="order-created", EventBusName="orders")["Targets"]
        assert [t["Arn"] for t in targets] == ["arn:aws:sqs:us-east-1:000000000000:orders-queue"]

        # The README's command, as written but for the port.
        steps = next(b for b in blocks(subsection("docker-compose"), "sh") if "put-events" in b)
        put = next(p for p in steps.split("\n\n") if p.startswith("aws events put-events"))
        service, args = cli_args(put, srv.url)
        answer = AwsCli(srv.url, service=service)(*args)
        assert answer["FailedEntryCount"] == 0

        sqs = moto.sqs()
        messages: list = []

        def receive():
            messages.extend(sqs.receive_message(QueueUrl=queue_url, WaitTimeSeconds=1).get("Messages", []))
            return messages

        wait_for(receive, timeout=15, interval=0.1, message="the order in the queue")
        body = json.loads(messages[0]["Body"])
        assert (body["source"], body["detail-type"], body["detail"]) == ("shop", "OrderCreated", {"id": 1})
    finally:
        srv.stop()


def test_testcontainers_snippets_wait_for_what_the_server_does(server):
    text = subsection("Testcontainers")
    # The log wait: its pattern finds the startup line.
    (python,) = blocks(text, "python")
    pattern = re.search(r'wait_for_logs\(container, r"([^"]+)"', python).group(1)
    assert any(re.search(pattern, line) for line in server.stdout_lines), server.stdout_lines
    # The health wait: the endpoint it polls answers 200 with status ok.
    (js,) = blocks(text, "js")
    path = re.search(r'Wait\.forHttp\("([^"]+)", 4010\)', js).group(1)
    answer = raw_call(server.port, None, method="GET", path=path)
    assert answer.status == 200 and answer.json()["status"] == "ok"
    # Both reach the container's port 4010, the one the image listens on.
    dockerfile = (REPO_ROOT / "docker" / "Dockerfile").read_text()
    assert "EVENTBRIDGE_LOCAL_PORT=4010" in dockerfile and "EXPOSE 4010" in dockerfile
    assert "with_exposed_ports(4010)" in python and "withExposedPorts(4010)" in js
