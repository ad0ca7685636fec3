#!/usr/bin/env python3
"""Generates a planted-secrets corpus of Confluence storage-format pages for bench/scan.

Writes OUT/pages/<SPACE>/page-<n>.xhtml (one page body per file, blocks on their own lines,
as a pretty-printed body.storage) and OUT/truth.jsonl: one line per planted secret with the
file (relative to OUT), the 1-based first and last line it occupies, and its kind.

Background: prose in English, German, French and Spanish, headings, lists, tables of hosts
and owners, code macros with harmless code, user mentions with ri:account-id attributes
(24 hex digits), page links, UUIDs, commit hashes, public IPs, private IPs and UNC paths
(sensitive, but not secrets: not in the truth). Decoys that are not secrets: AWS's documented
example keys, placeholders (${VAR}, <password>, ********, "see vault"), public keys, prose
about passwords, hashes. Planted: 30 kinds of real-looking fake secrets (GitHub and npm
tokens with valid CRC32 checksums) in prose, tables, code macros and macro parameters.

Usage: gen_corpus.py OUT [--mb 200] [--seed 7]
"""
import argparse, base64, json, os, random, string, zlib

B62 = string.digits + string.ascii_uppercase + string.ascii_lowercase
AN = string.ascii_letters + string.digits
HEX = "0123456789abcdef"


def b62(n):
    s = ""
    for _ in range(6):
        s = B62[n % 62] + s
        n //= 62
    return s


class Gen:
    def __init__(self, seed):
        self.r = random.Random(seed)

    def rs(self, alphabet, n):
        return "".join(self.r.choice(alphabet) for _ in range(n))

    def crc_token(self, prefix):
        body = self.rs(AN, 30)
        return f"{prefix}_{body}{b62(zlib.crc32(body.encode()))}"

    def password(self):
        words = ["Summer", "Winter", "Herbst", "Soleil", "Verano", "Falcon", "Orbit", "Tiger",
                 "Maple", "Cobalt", "Nordic", "Piano", "Delta", "Quartz", "Harbor"]
        return (self.r.choice(words) + self.r.choice(["#", "!", "-", "+", "$", "%", "_", "."])
                + str(self.r.randint(10, 9999)) + self.rs(string.ascii_letters, 2))

    def b64(self, n):
        return self.rs(string.ascii_letters + string.digits + "+/", n)


WORDS_EN = ("the service deployment team release cluster backup monitoring network storage "
            "database customer report migration project review incident update config server "
            "account access pipeline version schedule meeting owner process document support "
            "quarter budget roadmap vendor contract security policy").split()
WORDS_DE = ("der die das Dienst Bereitstellung Team Freigabe Sicherung Überwachung Netzwerk "
            "Speicher Datenbank Kunde Bericht Projekt Prüfung Vorfall Änderung Zugang Besprechung "
            "Verantwortlich Prozess Dokument Unterstützung Zeitplan").split()
WORDS_FR = ("le la les service déploiement équipe version sauvegarde surveillance réseau "
            "stockage base client rapport migration projet revue incident serveur accès réunion "
            "responsable processus document calendrier").split()
WORDS_ES = ("el la los servicio despliegue equipo versión copia monitorización red "
            "almacenamiento base cliente informe migración proyecto revisión incidente servidor "
            "acceso reunión responsable proceso documento calendario").split()


def sentence(g, words):
    n = g.r.randint(8, 22)
    s = " ".join(g.r.choice(words) for _ in range(n))
    return s[0].upper() + s[1:] + "."


def prose(g):
    words = g.r.choice([WORDS_EN, WORDS_EN, WORDS_DE, WORDS_FR, WORDS_ES])
    return " ".join(sentence(g, words) for _ in range(g.r.randint(2, 6)))


def mention(g):
    return f'<ac:link><ri:user ri:account-id="{g.rs(HEX, 24)}" /></ac:link>'


def background_block(g):
    """Returns a list of lines (no secrets)."""
    k = g.r.randint(0, 13)
    if k <= 4:
        return [f"<p>{prose(g)} {mention(g) if g.r.random() < 0.3 else ''}</p>"]
    if k == 5:
        return [f"<h2>{sentence(g, WORDS_EN)[:-1]}</h2>"]
    if k == 6:
        return ["<ul>"] + [f"<li>{sentence(g, WORDS_EN)}</li>" for _ in range(g.r.randint(2, 5))] + ["</ul>"]
    if k == 7:
        rows = ["<table><tbody>", "<tr><th>Host</th><th>Owner</th><th>Port</th><th>Notes</th></tr>"]
        for _ in range(g.r.randint(2, 6)):
            rows.append(f"<tr><td>srv{g.r.randint(1, 99):02d}.example.com</td><td>{mention(g)}</td>"
                        f"<td>{g.r.choice([22, 443, 5432, 8080, 9200])}</td><td>{sentence(g, WORDS_EN)}</td></tr>")
        rows.append("</tbody></table>")
        return rows
    if k == 8:
        code = ["def handler(event, context):", "    items = load(event['id'])",
                "    return {'status': 200, 'count': len(items)}"]
        return ['<ac:structured-macro ac:name="code" ac:schema-version="1" ac:macro-id="'
                + f'{g.rs(HEX, 8)}-{g.rs(HEX, 4)}-{g.rs(HEX, 4)}-{g.rs(HEX, 4)}-{g.rs(HEX, 12)}">'
                + '<ac:parameter ac:name="language">python</ac:parameter><ac:plain-text-body><![CDATA['
                + code[0]] + code[1:-1] + [code[-1] + "]]></ac:plain-text-body></ac:structured-macro>"]
    if k == 9:
        return [f"<p>Commit {g.rs(HEX, 40)} fixed build {g.rs(HEX, 8)}-{g.rs(HEX, 4)}-{g.rs(HEX, 4)}-"
                f"{g.rs(HEX, 4)}-{g.rs(HEX, 12)} on {g.r.randint(1, 28)}.{g.r.randint(1, 12)}.2025.</p>"]
    if k == 10:
        # sensitive, not secret
        return [f"<p>Files are on \\\\fs{g.r.randint(1, 9)}.corp\\share{g.r.randint(1, 9)} and the "
                f"gateway is 10.{g.r.randint(0, 255)}.{g.r.randint(0, 255)}.{g.r.randint(1, 254)}.</p>"]
    if k == 11:
        return [f'<p><ac:link><ri:page ri:content-title="{sentence(g, WORDS_EN)[:30]}" /></ac:link> '
                f'<ac:image><ri:attachment ri:filename="diagram-{g.rs(HEX, 6)}.png" /></ac:image></p>']
    if k == 12:
        return [f"<p>Public endpoint 52.{g.r.randint(0, 255)}.{g.r.randint(0, 255)}.{g.r.randint(1, 254)}, "
                f"image sha256:{g.rs(HEX, 64)}</p>"]
    return [f"<blockquote><p>{prose(g)}</p></blockquote>"]


def decoy_block(g):
    k = g.r.randint(0, 11)
    return [[
        "<p>Example from the AWS docs: AKIAIOSFODNN7EXAMPLE / wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY</p>",
        "<p>Set <code>password: ${DB_PASSWORD}</code> in the values file.</p>",
        "<p>PASSWORD=&lt;your password&gt;</p>",
        "<p>Password: ******** (ask the on-call)</p>",
        "<p>The password is required for production access.</p>",
        "<p>Das Passwort muss mindestens zwölf Zeichen haben.</p>",
        f"<p>ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAI{g.b64(43)} deploy@build</p>",
        f"<p>-----BEGIN PUBLIC KEY-----</p><p>MIIBIjANBgkqhkiG9w0BAQEFAAOCAQ8AMIIBCgKCAQEA{g.b64(40)}</p><p>-----END PUBLIC KEY-----</p>",
        "<p>Reset your password at the self-service portal; the token expires after 24 hours.</p>",
        "<table><tbody><tr><th>System</th><th>Password</th></tr><tr><td>HR portal</td><td>see vault</td></tr></tbody></table>",
        "<p>api_key = \"${API_KEY}\" and client_secret: {{ vault.client_secret }}</p>",
        f"<p>Checksum md5 {g.rs(HEX, 32)} for release {g.r.randint(1, 9)}.{g.r.randint(0, 20)}.</p>",
    ][k]]


def planted_block(g):
    """Returns (lines, [(line_offset_start, line_offset_end, kind)])."""
    k = g.r.randint(0, 29)
    pw = g.password()
    if k == 0:
        return ([f"<p>CI token: {g.crc_token('ghp')}</p>"], [(0, 0, "github-pat")])
    if k == 1:
        lines = ['<ac:structured-macro ac:name="code"><ac:plain-text-body><![CDATA[[default]',
                 f"aws_access_key_id = AKIA{g.rs('ABCDEFGHIJKLMNOPQRSTUVWXYZ234567', 16)}",
                 f"aws_secret_access_key = {g.b64(40)}]]></ac:plain-text-body></ac:structured-macro>"]
        return (lines, [(1, 1, "aws-key-id"), (2, 2, "aws-secret")])
    if k == 2:
        return ([f"<p>Runner registration uses glpat-{g.rs(AN + '-_', 20)} for now.</p>"], [(0, 0, "gitlab-pat")])
    if k == 3:
        return ([f"<p>Bot: xoxb-{g.rs(string.digits, 12)}-{g.rs(string.digits, 13)}-{g.rs(AN, 24)}</p>"], [(0, 0, "slack-bot")])
    if k == 4:
        return (["<table><tbody><tr><th>Service</th><th>Key</th></tr>",
                 f"<tr><td>Stripe</td><td>sk_live_{g.rs(AN, 24)}</td></tr></tbody></table>"], [(1, 1, "stripe")])
    if k == 5:
        body = [g.b64(64) for _ in range(6)]
        lines = ['<ac:structured-macro ac:name="noformat"><ac:plain-text-body><![CDATA[-----BEGIN RSA PRIVATE KEY-----',
                 "MIIEpAIBAAKCAQEA" + body[0]] + body[1:] + ["-----END RSA PRIVATE KEY-----]]></ac:plain-text-body></ac:structured-macro>"]
        return (lines, [(0, len(lines) - 1, "private-key")])
    if k == 6:
        payload = json.dumps({"sub": "svc-" + g.rs(string.ascii_lowercase, 8),
                              "iat": g.r.randint(1_600_000_000, 1_800_000_000), "role": "deploy"})
        jwt = ("eyJhbGciOiJIUzI1NiIsInR5cCI6IkpXVCJ9."
               + base64.urlsafe_b64encode(payload.encode()).decode().rstrip("=")
               + "." + g.rs(AN + "-_", 43))
        return ([f"<p>Authorization: Bearer {jwt}</p>"], [(0, 0, "jwt")])
    if k == 7:
        return ([f"<p>The password for the staging database is {pw}</p>"], [(0, 0, "password-en")])
    if k == 8:
        return ([f"<p>Das Passwort für den Testserver lautet: {pw}</p>"], [(0, 0, "password-de")])
    if k == 9:
        return ([f"<p>Le mot de passe du compte de service est {pw}</p>"], [(0, 0, "password-fr")])
    if k == 10:
        return ([f"<p>La contraseña del usuario de pruebas es {pw}</p>"], [(0, 0, "password-es")])
    if k == 11:
        return (["<table><tbody><tr><th>Environment</th><th>User</th><th>Password</th></tr>",
                 f"<tr><td>test</td><td>tester</td><td>{pw}</td></tr>",
                 f"<tr><td>dev</td><td>developer</td><td>{g.password()}</td></tr></tbody></table>"],
                [(1, 1, "table-column"), (2, 2, "table-column")])
    if k == 12:
        return (["<table><tbody><tr><td>Login</td><td>svc_backup</td></tr>",
                 f"<tr><td>Passwort</td><td>{pw}</td></tr></tbody></table>"], [(1, 1, "table-row")])
    if k == 13:
        return ([f"<p>jdbc:postgresql://db{g.r.randint(1, 9)}.example.com:5432/app?user=app&amp;password={pw}</p>"], [(0, 0, "jdbc")])
    if k == 14:
        return ([f"<p>Server=sql01;Database=crm;User Id=sa;Password={pw};</p>"], [(0, 0, "adonet")])
    if k == 15:
        return ([f"<p>jdbc:oracle:thin:scott/{pw}@//ora01.example.com:1521/ORCL</p>"], [(0, 0, "oracle-thin")])
    if k == 16:
        return ([f"<p>DATABASE_URL=postgres://app:{pw}@db01.example.com:5432/app</p>"], [(0, 0, "db-uri")])
    if k == 17:
        return ([f"<p>Mirror: https://deploy:{pw}@nexus.example.com/repository/raw</p>"], [(0, 0, "basic-auth-url")])
    if k == 18:
        lines = ['<ac:structured-macro ac:name="code"><ac:plain-text-body><![CDATA[registry=https://registry.npmjs.org/',
                 f"//registry.npmjs.org/:_authToken={g.crc_token('npm')}]]></ac:plain-text-body></ac:structured-macro>"]
        return (lines, [(1, 1, "npm")])
    if k == 19:
        return ([f"<p>Maps key AIza{g.rs(AN + '-_', 35)}</p>"], [(0, 0, "gcp-api-key")])
    if k == 20:
        return ([f"<p>SENDGRID_API_KEY=SG.{g.rs(AN + '-_', 22)}.{g.rs(AN + '-_', 43)}</p>"], [(0, 0, "sendgrid")])
    if k == 21:
        return ([f"<p>DefaultEndpointsProtocol=https;AccountName=acme;AccountKey={g.b64(86)}==;EndpointSuffix=core.windows.net</p>"],
                [(0, 0, "azure-storage")])
    if k == 22:
        return ([f'<ac:structured-macro ac:name="code"><ac:plain-text-body><![CDATA[machine api.example.com login deploy password {pw}]]></ac:plain-text-body></ac:structured-macro>'],
                [(0, 0, "netrc")])
    if k == 23:
        return ([f"<p>OPENAI_API_KEY=sk-proj-{g.rs(AN, 40)}T3BlbkFJ{g.rs(AN, 40)}</p>"], [(0, 0, "openai")])
    if k == 24:
        return ([f"<p>Mongo: mongodb+srv://svc:{pw}@cluster0.example.net/prod</p>"], [(0, 0, "mongo-uri")])
    if k == 25:
        return ([f"<p>Guest WiFi password: {pw}</p>"], [(0, 0, "wifi")])
    if k == 26:
        return ([f"<p>Credentials: admin / {pw}</p>"], [(0, 0, "credential-pair")])
    if k == 27:
        return ([f'<ac:structured-macro ac:name="code"><ac:plain-text-body><![CDATA[spring.datasource.password={pw}]]></ac:plain-text-body></ac:structured-macro>'],
                [(0, 0, "config-password")])
    if k == 28:
        return ([f"<p>Atlassian API token: ATATT3xFfGF0{g.rs(AN + '-_', 170)}={g.rs('0123456789ABCDEF', 8)}</p>"], [(0, 0, "atlassian")])
    return ([f"<p>DigitalOcean: dop_v1_{g.rs(HEX, 64)}</p>"], [(0, 0, "digitalocean")])


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("out")
    ap.add_argument("--mb", type=float, default=200)
    ap.add_argument("--seed", type=int, default=7)
    a = ap.parse_args()
    g = Gen(a.seed)
    target = int(a.mb * 1024 * 1024)
    total = 0
    n = 0
    spaces = ["OPS", "DEV", "HR", "FIN", "SEC", "MKT", "ARCH", "QA"]
    truth = open(os.path.join(a.out, "truth.jsonl"), "w") if os.path.isdir(a.out) else None
    if truth is None:
        os.makedirs(a.out, exist_ok=True)
        truth = open(os.path.join(a.out, "truth.jsonl"), "w")
    planted = 0
    while total < target:
        space = spaces[n % len(spaces)]
        d = os.path.join(a.out, "pages", space)
        os.makedirs(d, exist_ok=True)
        rel = os.path.join("pages", space, f"page-{n:06d}.xhtml")
        lines = []
        size = g.r.randint(8_000, 60_000)
        cur = 0
        while cur < size:
            roll = g.r.random()
            if roll < 0.06:
                block, marks = planted_block(g)
                for s, e, kind in marks:
                    truth.write(json.dumps({"file": rel, "line": len(lines) + s + 1,
                                            "end_line": len(lines) + e + 1, "kind": kind}) + "\n")
                    planted += 1
            elif roll < 0.09:
                block = decoy_block(g)
            else:
                block = background_block(g)
            lines.extend(block)
            cur += sum(len(x) + 1 for x in block)
        text = "\n".join(lines) + "\n"
        with open(os.path.join(a.out, rel), "w") as f:
            f.write(text)
        total += len(text.encode())
        n += 1
    truth.close()
    print(json.dumps({"pages": n, "bytes": total, "planted": planted}))


main()
