#!/usr/bin/python3
"""Generate Django password-hash test vectors for modules/auth.

Run with Debian's packages (python3-django, python3-argon2, python3-bcrypt):

    /usr/bin/python3 modules/auth/testdata/django_hashes.py > modules/auth/testdata/django_hashes.json

Every hash is made by Django's own hashers (django.contrib.auth.hashers), so the
Go verifier is checked against the real algorithms, not against itself.
"""
import json
import sys

import django
from django.conf import settings

settings.configure(
    PASSWORD_HASHERS=[
        "django.contrib.auth.hashers.PBKDF2PasswordHasher",
        "django.contrib.auth.hashers.PBKDF2SHA1PasswordHasher",
        "django.contrib.auth.hashers.Argon2PasswordHasher",
        "django.contrib.auth.hashers.BCryptSHA256PasswordHasher",
        "django.contrib.auth.hashers.BCryptPasswordHasher",
    ],
)
django.setup()

import bcrypt  # noqa: E402
from django.contrib.auth.hashers import get_hasher, make_password, check_password  # noqa: E402

PASSWORDS = [
    "correct horse battery staple",
    "Tr0ub4dor&3-extended",
    "pässwörd-ünïcödé-ß",
    "short",
    "x" * 100,
]

vectors = []
for algo in ["pbkdf2_sha256", "pbkdf2_sha1", "argon2", "bcrypt_sha256", "bcrypt"]:
    hasher = get_hasher(algo)
    if algo in ("bcrypt", "bcrypt_sha256"):
        hasher.rounds = 5  # keep the test fast; the format is what matters
    if algo.startswith("pbkdf2"):
        hasher.iterations = 1000
    for pw in PASSWORDS:
        if algo == "bcrypt" and len(pw.encode()) > 72:
            continue  # Django's plain bcrypt truncates (or refuses) past 72 bytes
        encoded = hasher.encode(pw, hasher.salt())
        assert check_password(pw, encoded, preferred=algo)
        vectors.append({"algorithm": algo, "password": pw, "encoded": encoded})

# A plain bcrypt hash ($2b$), as other frameworks store it.
for pw in PASSWORDS[:3]:
    vectors.append({
        "algorithm": "bcrypt_plain",
        "password": pw,
        "encoded": bcrypt.hashpw(pw.encode(), bcrypt.gensalt(rounds=5)).decode(),
    })

json.dump({"django": django.get_version(), "vectors": vectors}, sys.stdout, indent=1, ensure_ascii=False)
sys.stdout.write("\n")
