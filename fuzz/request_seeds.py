"""Seeds of the `request` fuzz target: a valid request for each implemented operation, in
the target's input format (`<operation>\\n<headers>\\n\\n<body>`), with a few kinds of
Authorization header (SigV4 with a region, a 12-digit access key, SigV4a, none).

Run from the repository root: `python3 fuzz/request_seeds.py` writes fuzz/corpus/request/.
"""

import hashlib
import json
import os

ACCOUNT = "000000000000"
BUS_ARN = f"arn:aws:events:us-east-1:{ACCOUNT}:event-bus/fuzz-bus"
RULE_ARN = f"arn:aws:events:us-east-1:{ACCOUNT}:rule/fuzz-bus/r"
ARCHIVE_ARN = f"arn:aws:events:us-east-1:{ACCOUNT}:archive/arc"
CONNECTION_ARN = f"arn:aws:events:us-east-1:{ACCOUNT}:connection/c/6f4ea2f5-b1e3-4a0c-9cdb-7c1e4b4b9f0e"
EVENT = {
    "version": "0",
    "id": "6a7e8feb-b491-4cf7-a9f1-bf3703467718",
    "detail-type": "t",
    "source": "fuzz",
    "account": "123456789012",
    "time": "2024-01-01T00:00:00Z",
    "region": "us-east-1",
    "resources": ["arn:aws:s3:::b"],
    "detail": {"a": 1, "b": [1, 2.5, "x"], "c": {"d": None}},
}
PATTERN = json.dumps({"source": ["fuzz"], "detail": {"a": [{"numeric": [">", 0]}], "b": [{"prefix": "x"}]}})

BODIES = {
    "CreateEventBus": [{"Name": "fuzz-bus", "Description": "d", "Tags": [{"Key": "k", "Value": "v"}]}],
    "DescribeEventBus": [{"Name": "fuzz-bus"}, {"Name": BUS_ARN}, {}],
    "ListEventBuses": [{"NamePrefix": "fuzz", "Limit": 10}, {"NextToken": "ebl1.1"}],
    "DeleteEventBus": [{"Name": "fuzz-bus"}],
    "PutRule": [
        {"Name": "r", "EventBusName": "fuzz-bus", "EventPattern": PATTERN, "State": "ENABLED", "Description": "d"},
        {"Name": "s", "ScheduleExpression": "rate(5 minutes)", "State": "ENABLED"},
        {"Name": "c", "ScheduleExpression": "cron(0/5 * * * ? *)", "RoleArn": f"arn:aws:iam::{ACCOUNT}:role/r"},
    ],
    "DescribeRule": [{"Name": "r", "EventBusName": "fuzz-bus"}],
    "ListRules": [{"EventBusName": "fuzz-bus", "NamePrefix": "r", "Limit": 5}],
    "DeleteRule": [{"Name": "r", "EventBusName": "fuzz-bus", "Force": True}],
    "EnableRule": [{"Name": "r", "EventBusName": "fuzz-bus"}],
    "DisableRule": [{"Name": "r", "EventBusName": BUS_ARN}],
    "PutTargets": [
        {
            "Rule": "r",
            "EventBusName": "fuzz-bus",
            "Targets": [
                {
                    "Id": "t1",
                    "Arn": f"arn:aws:sqs:us-east-1:{ACCOUNT}:q",
                    "InputTransformer": {"InputPathsMap": {"s": "$.source", "a": "$.detail.a"}, "InputTemplate": '{"s": <s>, "a": <a>}'},
                    "RetryPolicy": {"MaximumRetryAttempts": 1, "MaximumEventAgeInSeconds": 60},
                    "DeadLetterConfig": {"Arn": f"arn:aws:sqs:us-east-1:{ACCOUNT}:dlq"},
                },
                {"Id": "t2", "Arn": f"arn:aws:lambda:us-east-1:{ACCOUNT}:function:f", "InputPath": "$.detail"},
                {"Id": "t3", "Arn": BUS_ARN.replace("fuzz-bus", "default"), "RoleArn": f"arn:aws:iam::{ACCOUNT}:role/r"},
                {"Id": "t4", "Arn": f"arn:aws:sqs:us-east-1:{ACCOUNT}:q.fifo", "SqsParameters": {"MessageGroupId": "g"}, "Input": '{"x":1}'},
                {"Id": "t5", "Arn": f"arn:aws:sns:us-east-1:{ACCOUNT}:topic"},
                {"Id": "t6", "Arn": f"arn:aws:logs:us-east-1:{ACCOUNT}:log-group:/aws/events/g"},
            ],
        }
    ],
    "RemoveTargets": [{"Rule": "r", "EventBusName": "fuzz-bus", "Ids": ["t1", "t9"], "Force": False}],
    "ListTargetsByRule": [{"Rule": "r", "EventBusName": "fuzz-bus", "Limit": 2}],
    "PutEvents": [
        {
            "Entries": [
                {"EventBusName": "fuzz-bus", "Source": "fuzz", "DetailType": "t", "Detail": json.dumps(EVENT["detail"]), "Resources": ["arn:x"], "Time": 1700000000},
                {"Source": "fuzz", "DetailType": "t", "Detail": "{}"},
            ]
        }
    ],
    "CreateArchive": [{"ArchiveName": "arc", "EventSourceArn": BUS_ARN, "EventPattern": PATTERN, "RetentionDays": 1, "Description": "d"}],
    "DescribeArchive": [{"ArchiveName": "arc"}],
    "ListArchives": [{"NamePrefix": "a", "EventSourceArn": BUS_ARN, "State": "ENABLED"}],
    "UpdateArchive": [{"ArchiveName": "arc", "RetentionDays": 0, "EventPattern": '{"source":[{"prefix":"f"}]}'}],
    "DeleteArchive": [{"ArchiveName": "arc"}],
    "StartReplay": [
        {
            "ReplayName": "rep",
            "EventSourceArn": ARCHIVE_ARN,
            "EventStartTime": 0,
            "EventEndTime": 1700000000,
            "Destination": {"Arn": BUS_ARN, "FilterArns": [RULE_ARN]},
        }
    ],
    "DescribeReplay": [{"ReplayName": "rep"}],
    "ListReplays": [{"NamePrefix": "r", "State": "RUNNING", "EventSourceArn": ARCHIVE_ARN}],
    "CancelReplay": [{"ReplayName": "rep"}],
    "TestEventPattern": [{"EventPattern": PATTERN, "Event": json.dumps(EVENT)}],
    "CreateConnection": [
        {"Name": "c", "AuthorizationType": "API_KEY", "AuthParameters": {"ApiKeyAuthParameters": {"ApiKeyName": "k", "ApiKeyValue": "v"}}},
        {"Name": "b", "AuthorizationType": "BASIC", "AuthParameters": {"BasicAuthParameters": {"Username": "u", "Password": "p"}, "InvocationHttpParameters": {"HeaderParameters": [{"Key": "h", "Value": "v", "IsValueSecret": False}]}}},
        {
            "Name": "o",
            "AuthorizationType": "OAUTH_CLIENT_CREDENTIALS",
            "AuthParameters": {"OAuthParameters": {"ClientParameters": {"ClientID": "i", "ClientSecret": "s"}, "AuthorizationEndpoint": "https://example.com/token", "HttpMethod": "POST"}},
        },
    ],
    "DescribeConnection": [{"Name": "c"}],
    "ListConnections": [{"NamePrefix": "c", "ConnectionState": "AUTHORIZED"}],
    "UpdateConnection": [{"Name": "c", "AuthorizationType": "API_KEY", "AuthParameters": {"ApiKeyAuthParameters": {"ApiKeyName": "k2", "ApiKeyValue": "v2"}}}],
    "DeleteConnection": [{"Name": "b"}],
    "DeauthorizeConnection": [{"Name": "c"}],
    "CreateApiDestination": [
        {"Name": "d", "ConnectionArn": CONNECTION_ARN, "InvocationEndpoint": "https://example.com/*", "HttpMethod": "POST", "InvocationRateLimitPerSecond": 10}
    ],
    "DescribeApiDestination": [{"Name": "d"}],
    "ListApiDestinations": [{"NamePrefix": "d", "ConnectionArn": CONNECTION_ARN}],
    "UpdateApiDestination": [{"Name": "d", "HttpMethod": "PUT"}],
    "DeleteApiDestination": [{"Name": "d"}],
}

HEADERS = [
    [
        "Authorization: AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE/20240101/us-west-2/events/aws4_request, "
        "SignedHeaders=content-type;host;x-amz-date;x-amz-target, "
        "Signature=5d672d79c15b13162d9279b0855cfba6789a8edb4c82c400e06b5924a6f2b5d7",
        "X-Amz-Date: 20240101T000000Z",
        "Host: 127.0.0.1:4010",
        "Content-Type: application/x-amz-json-1.1",
    ],
    ["Authorization: AWS4-HMAC-SHA256 Credential=123456789012/20240101/eu-west-1/events/aws4_request, SignedHeaders=host, Signature=00"],
    [
        "Authorization: AWS4-ECDSA-P256-SHA256 Credential=AKIDEXAMPLE/20240101/events/aws4_request, SignedHeaders=host;x-amz-date;x-amz-region-set, Signature=3045",
        "X-Amz-Region-Set: *",
        "X-Amz-Date: 20240101T000000Z",
    ],
    [],
]


def main():
    out = os.path.join("fuzz", "corpus", "request")
    os.makedirs(out, exist_ok=True)
    n = 0
    for i, (operation, bodies) in enumerate(BODIES.items()):
        for j, body in enumerate(bodies):
            headers = HEADERS[(i + j) % len(HEADERS)]
            data = "\n".join([operation, *headers]).encode() + b"\n\n" + json.dumps(body).encode()
            with open(os.path.join(out, hashlib.sha1(data).hexdigest()), "wb") as f:
                f.write(data)
            n += 1
    print(f"{n} seeds in {out}")


if __name__ == "__main__":
    main()
