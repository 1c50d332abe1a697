"""The demo's few calls to a local SQS (moto_server), with the standard library only.

    sqs.py create-queue ENDPOINT NAME      print the new queue's URL
    sqs.py event QUEUE_URL                 print the Lambda SQS event the event source mapping
                                           would invoke the replay with, made from the messages
                                           received off the queue
    sqs.py settle QUEUE_URL EVENT ANSWER   delete the records the replay did not report back,
                                           as the event source mapping does; print what is left
    sqs.py count QUEUE_URL                 print how many messages the queue holds

moto speaks SQS's JSON protocol and, locally, checks no signature.
"""

import json
import sys
import urllib.parse
import urllib.request

REGION = "us-east-1"


def call(endpoint, action, payload):
    request = urllib.request.Request(
        endpoint,
        data=json.dumps(payload).encode(),
        headers={
            "Content-Type": "application/x-amz-json-1.0",
            "X-Amz-Target": f"AmazonSQS.{action}",
            # moto tells the service from the credential scope; it checks no signature.
            "Authorization": f"AWS4-HMAC-SHA256 Credential=demo/20260101/{REGION}/sqs/aws4_request, "
            "SignedHeaders=host, Signature=0",
        },
    )
    with urllib.request.urlopen(request, timeout=10) as r:
        body = r.read()
    return json.loads(body) if body else {}


def endpoint_of(queue_url):
    parts = urllib.parse.urlsplit(queue_url)
    return f"{parts.scheme}://{parts.netloc}/"


def attribute(queue_url, name):
    out = call(endpoint_of(queue_url), "GetQueueAttributes", {"QueueUrl": queue_url, "AttributeNames": [name]})
    return out.get("Attributes", {}).get(name)


def count(queue_url):
    return sum(
        int(attribute(queue_url, name) or 0)
        for name in ("ApproximateNumberOfMessages", "ApproximateNumberOfMessagesNotVisible")
    )


def event(queue_url):
    arn = attribute(queue_url, "QueueArn")
    out = call(
        endpoint_of(queue_url),
        "ReceiveMessage",
        {
            "QueueUrl": queue_url,
            "MaxNumberOfMessages": 10,
            "VisibilityTimeout": 60,
            "MessageSystemAttributeNames": ["All"],
        },
    )
    records = [
        {
            "messageId": m["MessageId"],
            "receiptHandle": m["ReceiptHandle"],
            "body": m["Body"],
            "attributes": m.get("Attributes", {}),
            "messageAttributes": {},
            "md5OfBody": m.get("MD5OfBody"),
            "eventSource": "aws:sqs",
            "eventSourceARN": arn,
            "awsRegion": REGION,
        }
        for m in out.get("Messages", [])
    ]
    return {"Records": records}


def settle(queue_url, event_file, answer_file):
    with open(event_file) as f:
        records = json.load(f)["Records"]
    with open(answer_file) as f:
        failed = {i["itemIdentifier"] for i in json.load(f).get("batchItemFailures", [])}
    for r in records:
        if r["messageId"] not in failed:
            call(endpoint_of(queue_url), "DeleteMessage", {"QueueUrl": queue_url, "ReceiptHandle": r["receiptHandle"]})
    return count(queue_url)


def main():
    command, args = sys.argv[1], sys.argv[2:]
    if command == "create-queue":
        endpoint, name = args
        print(call(endpoint, "CreateQueue", {"QueueName": name, "Attributes": {"SqsManagedSseEnabled": "true"}})["QueueUrl"])
    elif command == "event":
        print(json.dumps(event(args[0]), indent=2))
    elif command == "settle":
        print(settle(*args))
    elif command == "count":
        print(count(args[0]))
    else:
        sys.exit(f"sqs.py: unknown command {command!r} (see its docstring)")


main()
