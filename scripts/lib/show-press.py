"""Print one press of the demo: the function's answer and what the BMS sandbox stored for it.

    show-press.py EVENT_FILE ANSWER_FILE SANDBOX_URL TICKETS_BEFORE [EXPECTED_STATUS]

Exits 1 when the answer's status is not the one the event's route gives: 201 for
POST .../tickets, 200 for POST .../tickets/preview and GET .../health, or EXPECTED_STATUS when
given (202: the press was parked). An SQS event (the replay's) expects no record reported back.
"""

import json
import sys
import urllib.request


def expected_status(event):
    method = event.get("httpMethod") or event["requestContext"]["http"]["method"]
    path = (event.get("path") or event.get("rawPath") or "").rstrip("/")
    if method == "POST" and path.endswith("/tickets"):
        return 201
    return 200


def get(url):
    with urllib.request.urlopen(url, timeout=10) as r:
        return json.load(r)


def main():
    event_file, answer_file, sandbox, before = sys.argv[1], sys.argv[2], sys.argv[3], int(sys.argv[4])
    with open(event_file) as f:
        event = json.load(f)
    with open(answer_file) as f:
        answer = json.load(f)
    if "Records" in event:
        return show_replay(event, answer, sandbox, before)
    status = answer.get("statusCode")
    # HTTP APIs answer with `headers`, REST APIs (payload 1.0) with `multiValueHeaders`.
    headers = {k.lower(): v for k, v in (answer.get("headers") or {}).items()}
    for k, v in (answer.get("multiValueHeaders") or {}).items():
        headers.setdefault(k.lower(), ", ".join(v))
    body = answer.get("body") or ""
    print(f"-- the function's answer: HTTP {status} ({headers.get('content-type', 'no content type')})")
    try:
        print(json.dumps(json.loads(body), indent=2))
    except ValueError:
        print(body.rstrip("\n"))

    stored = show_tickets(sandbox, before)
    want = int(sys.argv[5]) if len(sys.argv) > 5 else expected_status(event)
    if len(stored["tickets"]) == before:
        why = {201: "", 202: " (the press is parked until BMS takes it)"}.get(want, " (this route files none)")
        print("-- no ticket stored" + why)

    if status != want:
        print(f"demo: {event_file} answered HTTP {status}; expected {want}", file=sys.stderr)
        return 1
    return 0


def show_replay(event, answer, sandbox, before):
    """The replay's answer to an SQS event, and the tickets it filed."""
    print(f"-- the replay's answer to {len(event['Records'])} parked press(es):")
    print(json.dumps(answer, indent=2))
    stored = show_tickets(sandbox, before)
    if len(stored["tickets"]) == before:
        print("-- no ticket stored")
    failed = answer.get("batchItemFailures")
    if not event["Records"]:
        print("demo: the queue held nothing to replay", file=sys.stderr)
        return 1
    if failed != []:
        print(f"demo: the replay reported records back to the queue: {failed}", file=sys.stderr)
        return 1
    return 0


def show_tickets(sandbox, before):
    """Print the tickets the sandbox stored after the first `before`; the sandbox's record."""
    stored = get(sandbox + "/_sandbox/tickets")
    tenant = get(sandbox + "/_sandbox/tenant")
    names = {kind: {i["Id"]: i for i in items} for kind, items in tenant.items()}

    def name(kind, ident):
        item = names.get(kind, {}).get(ident)
        return f"{item['Name']} ({ident})" if item else f"id {ident}"

    for t in stored["tickets"][before:]:
        contact = names["Contacts"].get(t.get("ContactId"))
        if contact:
            who = f"{contact['Name']} <{contact['Email']}>"
        elif t.get("ContactId"):
            who = f"id {t.get('ContactId')}"
        else:
            who = "none (a person BMS does not know yet)"
        print(f"-- the ticket BMS stored: {t.get('TicketNumber')} (id {t.get('Id')})")
        print(f"   title:    {t.get('Title')}")
        print(f"   contact:  {who}, account {name('Accounts', t.get('AccountId'))}")
        print(f"   location: {name('Locations', t.get('LocationId'))}")
        if t.get("HardwareAssetId"):
            print(f"   computer: {name('Assets', t.get('HardwareAssetId'))}")
        print(f"   queue:    {name('Queues', t.get('QueueId')) if t.get('QueueId') else '-'}")
        print(f"   assignee: {name('Assignees', t.get('AssigneeId')) if t.get('AssigneeId') else '-'}")
        print(f"   priority: {name('Priorities', t.get('PriorityId'))}")
        print(f"   status:   {name('Statuses', t.get('StatusId'))}")
        print(f"   opened:   {t.get('OpenDate')}")
        print("   body:")
        for line in (t.get("Details") or "").splitlines():
            print("     " + line)
        for n in stored["notes"]:
            if n["ticket_id"] != t.get("Id"):
                continue
            files = [a.get("Name") or a.get("name") for a in n["note"].get("Attachments") or []]
            if files:
                print(f"   note with attachments: {', '.join(map(str, files))}")
            elif n["note"].get("IsInternal"):
                print("   internal note (technicians only):")
                for line in (n["note"].get("Details") or "").splitlines():
                    print("     " + line)
    return stored


sys.exit(main())
