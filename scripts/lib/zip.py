"""Zip files or a folder the same way every time: entries sorted, one fixed timestamp, and each
file's mode kept (Lambda runs `bootstrap` only if the zip says it is executable).

    python3 scripts/lib/zip.py OUT.zip NAME=PATH...   a file stored as NAME
    python3 scripts/lib/zip.py OUT.zip FOLDER          a folder, its name the entries' prefix
"""
import os
import sys
import zipfile

FIXED = (2020, 1, 1, 0, 0, 0)


def add(archive, name, path):
    info = zipfile.ZipInfo(name, FIXED)
    info.external_attr = (os.stat(path).st_mode & 0o777 | 0o100000) << 16
    info.compress_type = zipfile.ZIP_DEFLATED
    with open(path, "rb") as f:
        archive.writestr(info, f.read(), compresslevel=9)


def main(out, items):
    with zipfile.ZipFile(out, "w") as archive:
        for item in items:
            if "=" in item:
                name, path = item.split("=", 1)
                add(archive, name, path)
                continue
            for root, dirs, files in os.walk(item):
                dirs.sort()
                for file in sorted(files):
                    path = os.path.join(root, file)
                    add(archive, path, path)


if __name__ == "__main__":
    if len(sys.argv) < 3:
        sys.exit(__doc__)
    main(sys.argv[1], sys.argv[2:])
