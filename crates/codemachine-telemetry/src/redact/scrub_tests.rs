//! Tests of scrubbing as a whole, through [`Redactor::scrub`]: the shape tables (what must be
//! redacted, what must survive byte for byte), every input the fuzzer found, the linearity test
//! (bytes examined on adversarial input, counted by `scan::WORK`) and the brief's hostile inputs.

use std::borrow::Cow;

use super::Redactor;
use super::scan::WORK;

fn scrubbed(text: &str) -> String {
    Redactor::new().scrub(text).into_owned()
}

/// Input and expected output (fake secrets only).
const REDACTED_CASES: &[(&str, &str)] = &[
    (
        "Authorization: Bearer abc.def-123_XYZ",
        "Authorization: [REDACTED]",
    ),
    (
        "Authorization: ApiKey k-123 more",
        "Authorization: [REDACTED]",
    ),
    (
        "Authorization: SSWS 00abcdef\nnext",
        "Authorization: [REDACTED]\nnext",
    ),
    (
        "Proxy-Authorization:\tBasic dXNlcjpw",
        "Proxy-Authorization:\t[REDACTED]",
    ),
    (
        "{\"h\":\"Authorization: OAuth xyz\"}",
        "{\"h\":\"Authorization: [REDACTED]\"}",
    ),
    (
        "sent Bearer\t0123456789abcdef0123",
        "sent Bearer\t[REDACTED]",
    ),
    (
        "jwt eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiIxMjM0NTY3ODkwIn0.dozjgNryP4J3jVmNHl0w5N_XgL0n3I9PlFUP0THsR8U end",
        "jwt [REDACTED] end",
    ),
    ("key sk-proj-abcdefghijklmnop1234 ok", "key [REDACTED] ok"),
    (
        "anthropic sk-ant-api03-AAAAAAAAAAAAAAAAAAAA1b",
        "anthropic [REDACTED]",
    ),
    (
        "gh ghp_0123456789abcdefghijABCDEFGHIJ012345",
        "gh [REDACTED]",
    ),
    (
        "clone failed\\nghp_0123456789abcdefghijABCDEFGHIJ012345",
        "clone failed\\n[REDACTED]",
    ),
    ("x_ghp_0123456789abcdefghijABCDEFGHIJ012345", "x_[REDACTED]"),
    (
        "%22ghp_0123456789abcdefghijABCDEFGHIJ012345%22",
        "%22[REDACTED]%22",
    ),
    ("gl glpat-abcdefghij0123456789", "gl [REDACTED]"),
    ("aws AKIAIOSFODNN7EXAMPLE.", "aws [REDACTED]."),
    ("aws\\u0022AKIAIOSFODNN7EXAMPLE", "aws\\u0022[REDACTED]"),
    ("slack xoxb-1234567890-abcdefghij", "slack [REDACTED]"),
    (
        "hook https://hooks.slack.com/services/T0000/B0000/XXXXXXXXXXXXXXXXXXXXXXXX",
        "hook https://hooks.slack.com/services/[REDACTED]",
    ),
    ("stripe sk_live_0123456789abcdef", "stripe [REDACTED]"),
    ("g AIzaSyA-0123456789abcdefghijklmnopqrstu", "g [REDACTED]"),
    (
        "npm npm_0123456789abcdefghijABCDEFGHIJ012345",
        "npm [REDACTED]",
    ),
    (
        "-----BEGIN RSA PRIVATE KEY-----\nMIIEow\n-----END RSA PRIVATE KEY----- after",
        "[REDACTED] after",
    ),
    ("cut -----BEGIN PRIVATE KEY-----\nMIIEow", "cut [REDACTED]"),
    (
        "private_key: -----BEGIN RSA PRIVATE KEY-----\nMIIEow\nAAAA\n-----END RSA PRIVATE KEY-----",
        "private_key: [REDACTED]",
    ),
    (
        "{\"private_key\":\"-----BEGIN PRIVATE KEY-----\\nMIIE\\n-----END PRIVATE KEY-----\\n\"}",
        "{\"private_key\":\"[REDACTED]\"}",
    ),
    (
        "db postgres://app:hunter2@db.local/x",
        "db postgres://app:[REDACTED]@db.local/x",
    ),
    (
        "u https://u:p@ss#w/o?r'd\"@h.example/x y",
        "u https://u:[REDACTED]@h.example/x y",
    ),
    (
        "esc https:\\/\\/u:hunter2@h\\/x",
        "esc https:\\/\\/u:[REDACTED]@h\\/x",
    ),
    ("rel //u:hunter2@h/x", "rel //u:[REDACTED]@h/x"),
    (
        "https://ghp_0123456789abcdefghijABCDEFGHIJ012345:x-oauth-basic@github.com/o/r",
        "https://[REDACTED]:[REDACTED]@github.com/o/r",
    ),
    (
        "Cookie: ghp_0123456789abcdefghijABCDEFGHIJ012345=1",
        "Cookie: [REDACTED]=[REDACTED]",
    ),
    (
        "enc https%3A%2F%2Fu%3Ahunter2%40h%2Fx",
        "enc https%3A%2F%2Fu%3A[REDACTED]%40h%2Fx",
    ),
    (
        "GET /x?access_token=abc123&page=2",
        "GET /x?access_token=[REDACTED]&page=2",
    ),
    ("login password=hunter2 ok", "login password=[REDACTED] ok"),
    ("password = hunter2", "password = [REDACTED]"),
    ("password : hunter2", "password : [REDACTED]"),
    (
        "\"password\" : \"hunter2\"",
        "\"password\" : \"[REDACTED]\"",
    ),
    ("{'password': b'hunter2'}", "{'password': b'[REDACTED]'}"),
    (
        "{\"password\"=>\"hunter2\"}",
        "{\"password\"=>\"[REDACTED]\"}",
    ),
    ("password => hunter2", "password => [REDACTED]"),
    (
        "user[password]=hunter2&x=1",
        "user[password]=[REDACTED]&x=1",
    ),
    ("password[0]=hunter2", "password[0]=[REDACTED]"),
    (
        "{\\\"password\\\":\\\"hunter2\\\"}",
        "{\\\"password\\\":\\\"[REDACTED]\\\"}",
    ),
    (
        "{\"pass\\u0077ord\":\"hunter2\"}",
        "{\"pass\\u0077ord\":\"[REDACTED]\"}",
    ),
    ("{\"token\":[\"v1\",\"v2\"]}", "{\"token\":[REDACTED]}"),
    (
        "Driver={x};Server=s;Pwd=hunter2;",
        "Driver={x};Server=s;Pwd=[REDACTED];",
    ),
    ("password := hunter2", "password := [REDACTED]"),
    ("password <- \"hunter2\"", "password <- \"[REDACTED]\""),
    ("run --password=s3cret", "run --password=[REDACTED]"),
    ("\\npwd=hunter2", "\\npwd=[REDACTED]"),
    (
        "%0Apassword%3Dhunter2%26x%3D1",
        "%0Apassword%3D[REDACTED]%26x%3D1",
    ),
    (
        "Cookie: a=1; sessionid=abc",
        "Cookie: a=[REDACTED]; sessionid=[REDACTED]",
    ),
    (
        "Set-Cookie: sid=abc; Path=/; HttpOnly",
        "Set-Cookie: sid=[REDACTED]; Path=/; HttpOnly",
    ),
    (
        "DefaultEndpointsProtocol=https;AccountName=a;AccountKey= abc123==;",
        "DefaultEndpointsProtocol=https;AccountName=a;AccountKey= [REDACTED];",
    ),
    (
        "https://a.blob.core.windows.net/c?sv=2020&sig=abc%2Bdef&se=1",
        "https://a.blob.core.windows.net/c?sv=2020&sig=[REDACTED]&se=1",
    ),
    ("X-Api-Key: 12345", "X-Api-Key: [REDACTED]"),
    ("token: Bearer abc", "token: [REDACTED]"),
    ("MYSQL_PWD=/x", "MYSQL_PWD=[REDACTED]"),
    ("access_tokens: [\"a\"]", "access_tokens: [REDACTED]"),
    (
        "PuTTY-User-Key-File-3: ssh-ed25519\nPrivate-Lines: 1\nAAAA\nPrivate-MAC: ab12\nafter",
        "[REDACTED]\nafter",
    ),
    (
        "t SG.abcdefghijklmnopqrstuv.abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQ x",
        "t [REDACTED] x",
    ),
    // Terminal escape sequences before a shape (review finding H4).
    (
        "deploy \x1b[33mapi_key=QkT5rW8zN3pL6vX2yH9c\x1b[0m done",
        "deploy \x1b[33mapi_key=[REDACTED]\x1b[0m done",
    ),
    (
        "\x1b]8;;http://x\x1b\\Cookie: a=b\x1b]8;;\x1b\\",
        "\x1b]8;;http://x\x1b\\Cookie: a=[REDACTED]\x1b]8;;\x1b\\",
    ),
    (
        "\x1b[0;34;1m\"password\"\x1b[0m\x1b[1;39m:\x1b[0m \x1b[0;32m\"hunter2\"\x1b[0m",
        "\x1b[0;34;1m\"password\"\x1b[0m\x1b[1;39m:\x1b[0m \x1b[0;32m\"[REDACTED]\"\x1b[0m",
    ),
    (
        "{\"msg\":\"\\u001b[33mpwd=QkT5rW8zN3pL6vX2yH9c\\u001b[0m\"}",
        "{\"msg\":\"\\u001b[33mpwd=[REDACTED]\\u001b[0m\"}",
    ),
    (
        "\u{9b}1mBearer QkT5rW8zN3pL6vX2yH9c",
        "\u{9b}1mBearer [REDACTED]",
    ),
    // Notations (review finding M3).
    (
        "<password>hunter2</password>",
        "<password>[REDACTED]</password>",
    ),
    (
        "<cfg:client_secret enc=\"no\">\n  hunter2\n</cfg:client_secret>",
        "<cfg:client_secret enc=\"no\">\n  [REDACTED]\n</cfg:client_secret>",
    ),
    (
        "<api_key><![CDATA[a<b]]hunter2]]></api_key>",
        "<api_key><![CDATA[[REDACTED]]]></api_key>",
    ),
    (
        "<input name=\"password\" value=\"hunter2\">",
        "<input name=\"password\" value=\"[REDACTED]\">",
    ),
    (
        "<input value='hunter2' type='password'/>",
        "<input value='[REDACTED]' type='password'/>",
    ),
    (
        "<add key=\"DbPassword\" value=\"hunter2\" />",
        "<add key=\"DbPassword\" value=\"[REDACTED]\" />",
    ),
    (
        "<meta name=\"csrf-token\" content=\"Zq9x8w7v6u5t\">",
        "<meta name=\"csrf-token\" content=\"[REDACTED]\">",
    ),
    (
        "Content-Disposition: form-data; name=\"password\"\r\n\r\nhunter2\r\n--b",
        "Content-Disposition: form-data; name=\"password\"\r\n\r\n[REDACTED]\r\n--b",
    ),
    (
        "Content-Disposition: form-data; name=\\\"token\\\"\\r\\n\\r\\nhunter2\\r\\n--b",
        "Content-Disposition: form-data; name=\\\"token\\\"\\r\\n\\r\\n[REDACTED]\\r\\n--b",
    ),
    (
        "%7B%22password%22%3A%22hunter2%22%7D",
        "%7B%22password%22%3A%22[REDACTED]%22%7D",
    ),
    ("password%3a%20hunter2", "password%3a%20[REDACTED]"),
    (
        "user%5Bpassword%5D%3Dhunter2",
        "user%5Bpassword%5D%3D[REDACTED]",
    ),
    (
        "{&quot;password&quot;:&quot;hunter2&quot;}",
        "{&quot;password&quot;:&quot;[REDACTED]&quot;}",
    ),
    ("password&#61;hunter2", "password&#61;[REDACTED]"),
    (
        "password&#x3D;hunter2&amp;x=1",
        "password&#x3D;[REDACTED]&amp;x=1",
    ),
    ("api_key&colon; hunter2", "api_key&colon; [REDACTED]"),
    ("password\\u003dhunter2", "password\\u003d[REDACTED]"),
    ("password\\x3Dhunter2", "password\\x3D[REDACTED]"),
    ("password\\u003a hunter2", "password\\u003a [REDACTED]"),
    (
        "\\u0022password\\u0022:\\u0022hunter2\\u0022",
        "\\u0022password\\u0022:\\u0022[REDACTED]\\u0022",
    ),
    ("password＝hunter2", "password＝[REDACTED]"),
    ("password：hunter2", "password：[REDACTED]"),
    ("token﹕ hunter2", "token﹕ [REDACTED]"),
    ("pwd⁼hunter2", "pwd⁼[REDACTED]"),
    // Lower-severity findings.
    ("abcsk-proj-QkT5rW8zN3pL6vX2yH9cQkT5rW8z", "abc[REDACTED]"),
    ("7sk-ant-api03-QkT5rW8zN3pL6vX2yH9cQkT5rW8z", "7[REDACTED]"),
    (
        "https://0a1b2c3d4e5f60718293a4b5c6d7e8f901234567@github.com/o/r",
        "https://[REDACTED]@github.com/o/r",
    ),
    (
        "curl -u bob:hunter2 https://x",
        "curl -u bob:[REDACTED] https://x",
    ),
    ("curl --user=bob:hunter2 x", "curl --user=bob:[REDACTED] x"),
    ("curl -u 'bob:hun ter2' x", "curl -u 'bob:[REDACTED]' x"),
    ("password=<hunter2>", "password=<[REDACTED]>"),
    ("password===hunter2", "password===[REDACTED]"),
    (
        "password: Proxy-Authorization: Basic dXNlcjpw",
        "password: Proxy-Authorization: [REDACTED]",
    ),
    (
        "Authorization: Bearer abc | form-data; name=\"password\"\\r\\n\\r\\nhunter2\\r\\n--b",
        "Authorization: [REDACTED]\\r\\n--b",
    ),
    (
        "{\"password\":\n  \"hunter2\"}",
        "{\"password\":\n  \"[REDACTED]\"}",
    ),
    (
        "{\\\"password\\\":\\n  \\\"hunter2\\\"}",
        "{\\\"password\\\":\\n  \\\"[REDACTED]\\\"}",
    ),
    ("ᴘᴀssword=hunter2", "ᴘᴀssword=[REDACTED]"),
    ("p\u{0430}ssword=hunter2", "p\u{0430}ssword=[REDACTED]"),
    ("pass: 1234", "pass: [REDACTED]"),
    (
        "Pass: 3 Fail: 0 login pass=1234",
        "Pass: 3 Fail: 0 login pass=[REDACTED]",
    ),
    ("Bearer abc.def-ghi_jkl==", "Bearer [REDACTED]"),
    // Flags with a space (review v4, class 1).
    (
        "cmd --password QkT5rW8zN3pL6vX2 --verbose",
        "cmd --password [REDACTED] --verbose",
    ),
    (
        "cmd --PASSWORD QkT5rW8zN3pL6vX2",
        "cmd --PASSWORD [REDACTED]",
    ),
    (
        "cmd --Password QkT5rW8zN3pL6vX2",
        "cmd --Password [REDACTED]",
    ),
    (
        "cmd --api-key QkT5rW8zN3pL6vX2 x",
        "cmd --api-key [REDACTED] x",
    ),
    (
        "cmd --client-secret QkT5rW8zN3pL6vX2",
        "cmd --client-secret [REDACTED]",
    ),
    ("cmd --token QkT5rW8zN3pL6vX2", "cmd --token [REDACTED]"),
    (
        "java -password\tQkT5rW8zN3pL6vX2",
        "java -password\t[REDACTED]",
    ),
    (
        "cmd --db.password  'hun ter2' x",
        "cmd --db.password  '[REDACTED]' x",
    ),
    (
        "argv=\"--token QkT5rW8zN3pL6vX2\"",
        "argv=\"--token [REDACTED]\"",
    ),
    (
        "\x1b[33m--api-key QkT5rW8zN3pL6vX2\x1b[0m",
        "\x1b[33m--api-key [REDACTED]\x1b[0m",
    ),
    ("run\n--token QkT5rW8zN3pL6vX2", "run\n--token [REDACTED]"),
    ("--auth Basic dXNlcjpwYXNz", "--auth [REDACTED]"),
    // A value on the next, indented line (class 2).
    ("password:\\n  QkT5rW8zN3pL6vX2", "password:\\n  [REDACTED]"),
    (
        "{\"cfg\":\"db:\\n  password:\\n    QkT5rW8zN3pL6vX2\\n  host: x\"}",
        "{\"cfg\":\"db:\\n  password:\\n    [REDACTED]\\n  host: x\"}",
    ),
    (
        "password:\n  QkT5rW8zN3pL6vX2\nuser: bob",
        "password:\n  [REDACTED]\nuser: bob",
    ),
    ("api_key=\r\n\tQkT5rW8zN3pL6vX2", "api_key=\r\n\t[REDACTED]"),
    ("token:\\n\\tQkT5rW8zN3pL6vX2", "token:\\n\\t[REDACTED]"),
    (
        "Authorization: Bearer abc | see [\\u0022password=\\n\\tQkT5rW8zN3pL6vX2]",
        "Authorization: [REDACTED]]",
    ),
    (
        "see [Proxy-Authorization: Basic QkT5rW8zN3pL6vX2] | password:\\n  aB3cQkT5rW8zN3pL",
        "see [Proxy-Authorization: [REDACTED]",
    ),
    (
        "Authorization: Bearer QkT5rW8zN3pL6vX2 | password:",
        "Authorization: [REDACTED]",
    ),
    (
        "password: |\n  QkT5rW8zN3pL6vX2\n",
        "password: |\n  [REDACTED]\n",
    ),
    // Name/value pairs written as text (class 3).
    (
        "ctx {\"name\":\"password\",\"value\":\"QkT5rW8zN3pL6vX2\"}",
        "ctx {\"name\":\"password\",\"value\":\"[REDACTED]\"}",
    ),
    (
        "ctx { \"name\" : \"api_key\" , \"value\" : \"QkT5rW8zN3pL6vX2\" }",
        "ctx { \"name\" : \"api_key\" , \"value\" : \"[REDACTED]\" }",
    ),
    (
        "ctx {'name': 'password', 'value': 'QkT5rW8zN3pL6vX2'}",
        "ctx {'name': 'password', 'value': '[REDACTED]'}",
    ),
    (
        "ctx {\\\"name\\\":\\\"password\\\",\\\"value\\\":\\\"QkT5rW8zN3pL6vX2\\\"}",
        "ctx {\\\"name\\\":\\\"password\\\",\\\"value\\\":\\\"[REDACTED]\\\"}",
    ),
    (
        "tags [{\"Key\":\"password\",\"Value\":\"QkT5rW8zN3pL6vX2\"}]",
        "tags [{\"Key\":\"password\",\"Value\":\"[REDACTED]\"}]",
    ),
    (
        "h [{\"Name\":\"Authorization\",\"Value\":\"Bearer QkT5rW8zN3pL6vX2\"}]",
        "h [{\"Name\":\"Authorization\",\"Value\":\"[REDACTED]\"}]",
    ),
    (
        "ctx {\"value\":\"QkT5rW8zN3pL6vX2\",\"name\":\"password\"}",
        "ctx {\"value\":\"[REDACTED]\",\"name\":\"password\"}",
    ),
    (
        "ctx {value: QkT5rW8zN3pL6vX2, key: client_secret}",
        "ctx {value: [REDACTED], key: client_secret}",
    ),
    (
        "ctx {\"k\":\"api_key\",\n  \"v\":\"QkT5rW8zN3pL6vX2\"}",
        "ctx {\"k\":\"api_key\",\n  \"v\":\"[REDACTED]\"}",
    ),
    (
        "env:\n- name: DB_PASSWORD\n  value: QkT5rW8zN3pL6vX2\n- name: HOST",
        "env:\n- name: DB_PASSWORD\n  value: [REDACTED]\n- name: HOST",
    ),
    (
        "env:\\n  - name: API_KEY\\n    value: \\\"QkT5rW8zN3pL6vX2\\\"",
        "env:\\n  - name: API_KEY\\n    value: \\\"[REDACTED]\\\"",
    ),
    // OpenAI legacy keys and Databricks tokens glued to text before them (class 4).
    (
        "abcsk-QkT5rW8zN3pL6vX2aB3cT3BlbkFJQkT5rW8zN3pL6vX2aB3c",
        "abc[REDACTED]",
    ),
    (
        "7sk-QkT5rW8zN3pL6vX2aB3cT3BlbkFJQkT5rW8zN3pL6vX2aB3c x",
        "7[REDACTED] x",
    ),
    (
        "{\"xsk-QkT5rW8zN3pL6vX2aB3cT3BlbkFJQkT5rW8zN3pL6vX2aB3c\":1}",
        "{\"x[REDACTED]\":1}",
    ),
    (
        "abcdapi0123456789abcdef0123456789abcdef x",
        "abc[REDACTED] x",
    ),
    // A token user of 16 characters (class 5).
    (
        "git clone https://QBXEd8pKLXE9zgZk@github.com/o/r",
        "git clone https://[REDACTED]@github.com/o/r",
    ),
    // Credentials in a URL's query (class 6).
    (
        "https://s.example/x?key=QkT5rW8zN3pL6vX2&a=1",
        "https://s.example/x?key=[REDACTED]&a=1",
    ),
    (
        "GET /cb?code=4/0AX4XfWhQkT5rW8zN3pL6vX2&state=x HTTP/1.1",
        "GET /cb?code=[REDACTED]&state=x HTTP/1.1",
    ),
    (
        "https://b.s3.amazonaws.com/k?X-Amz-Date=1&X-Amz-Signature=ab12&Signature=cd34",
        "https://b.s3.amazonaws.com/k?X-Amz-Date=1&X-Amz-Signature=[REDACTED]&Signature=[REDACTED]",
    ),
    (
        "<a href=\"https://h/p?x=1&amp;code=QkT5rW8z\">",
        "<a href=\"https://h/p?x=1&amp;code=[REDACTED]\">",
    ),
    (
        "https:\\/\\/h\\/t?code_verifier=QkT5rW8z&page=2",
        "https:\\/\\/h\\/t?code_verifier=[REDACTED]&page=2",
    ),
];

/// Text that must survive byte for byte.
const KEPT_TEXT: &[&str] = &[
    "step completed",
    "task-force sk-live-abc",
    "the bearer of bad news",
    "tokenCount=12 inputTokens: 30 max_tokens=4",
    "max_tokens: 8192, --field input_tokens=1200, passes: 12",
    "usage.tokens: {input: 1200, output: 80}",
    "PWD=/home/alice/proj",
    "https://example.com/path?q=1",
    "https://user@example.com",
    "http://localhost:3000/users?email=a@example.com",
    "docker://nginx:1.25@sha256:0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef",
    "-----BEGIN CERTIFICATE-----\nMIIB\n-----END CERTIFICATE-----",
    "time 12:34:56, ratio a=b",
    "eyJ short.one.two",
    "ASKIA is a name; AKIA too short; ASIAPACIFICREGION2024",
    "sk-learn-compatible-estimator",
    "SG.production-cluster-01.internal.example.com",
    "unexpected token: '}'",
    "has_password=true secret: false token=null password=***",
    "id 3f9c2a1e-7b4d-4c8e-9a11-2d5e6f708192 sha 4b825dc642cb6eb9a060e54bf8d69288fbee4904",
    "sha256:e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855",
    "data aGVsbG8gd29ybGQgdGhpcyBpcyBiYXNlNjQ=",
    "v1.2.3-rc.1 /usr/local/bin/codemachine alice@example.com",
    "unicode ключ=значение ✓",
    "a == b, x != y, Foo::bar, c <= d",
    // Look-alikes of the new notations and contexts.
    "\x1b[33mtoken_count=5\x1b[0m \x1b[1mthe bearer of bad news\x1b[0m",
    "\x1b[33msk-learn-compatible\x1b[0m \x1b[1mkey-value store",
    "usage: login <password> then <token>",
    "<password></password> <token>true</token> <tokens>12</tokens>",
    "<input name=\"username\" value=\"alice\"> <input type=\"password\">",
    "Content-Disposition: form-data; name=\"file\"; filename=\"a.txt\"",
    "a&amp;b &lt;x&gt; &#61; %25%25 ＝ alone",
    "token_type=bearer tokens_used=1500",
    "secret_arn=arn:aws:secretsmanager:us-east-1:123456789012:secret:prod/db",
    "SECRET=arn:aws:secretsmanager:us-east-1:123456789012:secret:x",
    "Pass: 3 Fail: 0",
    "FAIL=1 PASS=12",
    "https://alice@example.com https://first.last.name.long@example.com/x",
    "curl -u bob https://x; ssh -u x; docker run -u 1000:1000 -u www-data:www-data img",
    "password=<nil> token: <nil>",
    "==== password ==== a == b",
    "password:\nnext line",
    "\x1b[31merror\x1b[0m: \x1b[1mconnection refused\x1b[0m",
    "Пароль сорт ВОСК",
    // Look-alikes of flags with a space.
    "use --password to set it; the --token flag is required",
    "--password-file /etc/pw --token-count 5 --password-stdin --no-password build",
    "usage: login --password <PASSWORD> [--api-key [KEY]] --token=<nil>",
    "--tokens 5 --pwd /home/alice --secret true --password --verbose",
    "one-password two--token x a-password b --password\nnext",
    "2026-11-28T10:00:00 -0700 -Xmx512m -la -v --color auto",
    // Look-alikes of values on the next line.
    "token:\n  name: foo",
    "password:\n\n  later",
    "password:\\n# comment\\n  more",
    "tokens:\n  12\nhas_password:\n  true",
    // Look-alikes of name/value pairs.
    "{\"name\":\"host\",\"value\":\"db.local\"} {\"name\":\"tokens\",\"value\":5}",
    "{\"name\":\"password\",\"value\":true} {\"value\":\"x\",\"name\":\"user\"}",
    "name=password value=reset in the form",
    "- name: HOST\n  value: db.local\n- name: DB_PASSWORD\n  valueFrom: {secretKeyRef: x}",
    // Look-alikes of glued provider tokens.
    "monkey-patch turnkey-0123456789abcdef0123456789abcdef",
    "cachekey-d41d8cd98f00b204e9800998ecf8427e capi0123456789abcdef0123456789abcdef",
    "abcsk-QkT5rW8zN3pL6vX2QkT5rW8zN3pL6vX2 dapi0123 xdapi0123456789abcdef0123456789abcdefg",
    // Look-alikes of token users.
    "https://git@github.com https://user@host ssh://deploy@host https://firstname.lastname@host",
    "https://alice_smith_2024@host https://ci-runner-2024-x@host https://a1b2c3d4e5f6g7h8@host",
    // Look-alikes of query parameters.
    "https://s.example/x?page=2&sort=name /search?q=key https://h/p?sv=2022-11-02&se=2026",
    "foo?key=bar then key=val code=123 signature=ok",
];

#[test]
fn scrubs_every_listed_shape() {
    let wrong: Vec<String> = REDACTED_CASES
        .iter()
        .filter(|(input, expected)| scrubbed(input) != *expected || scrubbed(expected) != *expected)
        .map(|(input, expected)| format!("{input}\n  got  {}\n  want {expected}", scrubbed(input)))
        .collect();
    assert!(wrong.is_empty(), "{}", wrong.join("\n"));
}

#[test]
fn leaves_look_alikes_and_prose_alone() {
    let changed: Vec<String> = KEPT_TEXT
        .iter()
        .filter(|t| scrubbed(t) != **t)
        .map(|t| format!("{t}\n  got {}", scrubbed(t)))
        .collect();
    assert!(changed.is_empty(), "{}", changed.join("\n"));
}

/// Colour codes and other terminal escape sequences, raw and escaped.
const ESCAPES: &[&str] = &[
    "\x1b[33m",
    "\x1b[0;32;1m",
    "\x1b[38:2:255:0:0m",
    "\x1b[1m\x1b[4m",
    "\x1b(B",
    "\x1b7",
    "\x1b]8;;https://example.com\x1b\\",
    "\x1b]0;title\x07",
    "\u{9b}1m",
    "\\u001b[33m",
    "\\x1b[33m",
    "\\033[33m",
    "\\e[33m",
    "\x07",
    "\u{85}",
];

/// Shapes that start a word (a key, a scheme or a token prefix) and a fake secret after them.
const WORD_SHAPES: &[(&str, &str)] = &[
    ("api_key=", "QkT5rW8zN3pL6vX2yH9c"),
    ("pwd=", "QkT5rW8zN3pL6vX2yH9c"),
    ("pass=", "QkT5rW8zN3pL6vX2yH9c"),
    ("auth=", "QkT5rW8zN3pL6vX2yH9c"),
    ("otp=", "QkT5rW8zN3pL6vX2yH9c"),
    ("jwt=", "QkT5rW8zN3pL6vX2yH9c"),
    ("password: ", "QkT5rW8zN3pL6vX2yH9c"),
    ("Bearer ", "QkT5rW8zN3pL6vX2yH9c"),
    ("Cookie: sid=", "QkT5rW8zN3pL6vX2yH9c"),
    ("Authorization: Basic ", "QkT5rW8zN3pL6vX2yH9c"),
    ("sk-", "QkT5rW8zN3pL6vX2yH9cQkT5rW8zN3pL6vX2yH9c"),
    ("sk-proj-", "QkT5rW8zN3pL6vX2yH9cQkT5rW8z"),
    ("sk-svcacct-", "QkT5rW8zN3pL6vX2yH9cQkT5rW8z"),
    ("sk-ant-api03-", "QkT5rW8zN3pL6vX2yH9cQkT5rW8z"),
    ("key-", "0123456789abcdef0123456789abcdef"),
    ("dapi", "0123456789abcdef0123456789abcdef"),
    ("AKIA", "QKT5RW6ZN3PL7VX2"),
    ("SK", "0123456789abcdef0123456789abcdef"),
];

#[test]
fn a_terminal_escape_sequence_is_a_word_boundary_for_every_shape() {
    let r = Redactor::new();
    let mut leaked = Vec::new();
    for escape in ESCAPES {
        for (shape, secret) in WORD_SHAPES {
            let text = format!("deploy {escape}{shape}{secret}\x1b[0m done");
            let once = r.scrub(&text).into_owned();
            if once.contains(&secret[..12]) || r.scrub(&once) != once {
                leaked.push(format!("{text:?} -> {once:?}"));
            }
        }
    }
    assert!(leaked.is_empty(), "{}", leaked.join("\n"));
}

#[test]
fn borrows_when_nothing_is_found() {
    assert!(matches!(
        Redactor::new().scrub("plain text"),
        Cow::Borrowed(_)
    ));
    assert!(matches!(
        Redactor::new().scrub("password=[REDACTED]"),
        Cow::Borrowed(_)
    ));
}

#[test]
fn handles_secrets_at_both_ends_and_odd_inputs() {
    assert_eq!(
        scrubbed("ghp_0123456789abcdefghijABCDEFGHIJ token=x"),
        "[REDACTED] token=[REDACTED]"
    );
    assert_eq!(scrubbed("password="), "password=");
    assert_eq!(scrubbed("password=\"unterminated"), "password=\"[REDACTED]");
    for crash in [
        "\u{FFFD}\0%3mnemonic\u{FFFD}%3D:[",
        "password= //:-@",
        "PWDeyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiIxMjM0NTY3ODkwIn0.=/\u{FFFD}PWD=/\u{FFFD}4\u{1}'",
        ".max_tokens:{ 81-----END RSCookie:{ a\n\u{FFFD}7ax_tokens:{ 81-----END RSCookie:{ a",
        "\"\u{FFFD}@\u{FFFD}Cookie: !=1;ghp_0123456789abcdefghijABCDEFGPWD=/23 b[\"",
        "https://ghp_0123456789abcdefghijABCDEFGHIJ012345:x-oauth-basic@github.com/o/r",
        "%2F%2F\u{FFFD}:0\u{1}A33AA/PWD=`0.\u{FFFD}\nPWD=3:/PWD=`0.\u{FFFD}\u{6}@\u{FFFD}:0",
        "G.ss[\"passwords\u{FFFD}:{input\u{FFFD}Cookie: a=1; b=2\u{FFFD}z\u{FFFD}: 1200}\u{FFFD}PWD",
        "\"-----BEGIN  PRIVATE \u{0}\u{0}max_tokens: 8192\u{0}\u{0}\u{0}\u{0}\u{0}\u{0}\u{0}\u{0}\u{0}\u{0}\u{0}\u{0}\u{0}\u{0}\u{0}\u{0}\u{0}\u{0}\u{0}\u{0}\u{0}\u{0}\u{0}\u{0}\u{0}\u{0}\u{0}\u{0}\u{0}\u{0}\u{0}\u{0}\u{0}\u{0}\u{0}\u{0}\u{0}\u{0}\u{0}\u{0}\u{0}\u{0}\u{0}\u{0}\u{0}\u{0}\u{0}\u{0}\u{0}\u{0}\u{0}\u{0}\u{0}\u{0}\u{0}\u{0}\u{0}\u{0}\u{0}\u{0}\u{0}\u{0}\u{0}\u{0}\u{0}\u{0}\u{0}\u{0}\u{0}\u{0}\u{0}\u{0}\u{0}\u{0}\u{0}\u{0}KEY-----RSA PRIVATE KEY-----",
        "&:\\=n\\6=:\\\\=\":\\=n\\=nn:0A/PW\u{FFFD}\u{0}S\\/\\/=.A%2F%2FS\u{FFFD}/D\u{FFFD}0\u{FFFD}:\u{FFFD}///\\=password\\6=:\\=\":\\=n\\=n\\=nn&\":\\=n\\6=:\\=\":\\=n\\=nn:0\\==nn&\":\\=%/%2\u{FFFD}\u{7f}e\\6=:\u{FFFD}\\=\":\\=n\\=nlllll@lllllll\\=n6=:",
        "\\\u{0}1\"maX3eyJhbGciOiJGciOiJIUzI1NiJ9.eyJzdWIiOiIxMjV0NTY3ODkwIn0.33333333IUzI1NiJ9.eyJzdWIiOiIxMjV0NTY3ODkwIn0.3333333333\u{0}\u{0}333_tokens: 8192\\\"=\u{FFFD}",
    ] {
        let once = scrubbed(crash);
        assert_eq!(scrubbed(&once), once, "found by the fuzzer: {crash:?}");
    }
    // Found by the fuzzer: a redaction reaching back into one already made (a URL password
    // inside a PuTTY block) gave the multipart look-up a reversed range.
    let reversed = "=//f%<PuTTY-User-Key-File--%:A\u{FFFD}\u{FFFD}@";
    let once = scrubbed(reversed);
    assert_eq!(scrubbed(&once), once);
    // Found by the fuzzer: a quoted `-u "user:…` whose closing quote lay past a bound, so that
    // each pass redacted a little more.
    let far_quote = format!("' -u \"{}:{}\" \"=", "é".repeat(200), "gg".repeat(200));
    let once = scrubbed(&far_quote);
    assert_eq!(scrubbed(&once), once);
    assert!(!once.contains("gggg"), "{once}");
    for odd in [
        "",
        "\\\\\\",
        "=",
        ":",
        "//",
        "%",
        "-----BEGIN",
        "é=é",
        "ü//é",
        "é\\u00e9",
    ] {
        assert_eq!(scrubbed(odd), odd);
    }
}

/// Bytes examined to scrub `text`.
fn work_for(text: &str) -> u64 {
    WORK.with(|w| w.set(0));
    let _ = Redactor::new().scrub(text);
    WORK.with(|w| w.get())
}

/// Adversarial texts of about `len` bytes: triggers repeated so that a matcher rescanning
/// what follows it, or scanning back without a bound, would be quadratic.
fn adversarial(len: usize) -> Vec<(String, String)> {
    let units = [
        "password=",
        "password=[",
        "password=\"",
        "password='\"",
        "password={[",
        "tokens=[1,",
        "PWD=/",
        "a://",
        "//a:b",
        "//",
        "@//:",
        "-----BEGIN RSA PRIVATE KEY-----",
        "-----BEGIN CERTIFICATE-----",
        "[",
        "{",
        "\"",
        "\\",
        "%",
        "%3D",
        "%2F%2F",
        "%3A",
        "eyJaaaaaaaaaaaa.",
        "eyJ",
        "sk-a",
        "ghp_",
        "AKIA",
        "Bearer ",
        "Authorization: ",
        "Cookie: a=",
        "Cookie: ;",
        "é=",
        "\"password\":",
        "\\\"password\\\":\\\"",
        "ü:",
        "a-",
        "=-",
        "<-",
        "PuTTY-User-Key-File-",
        "user[password]=",
        "p\\u0077:",
        "password:\"",
        "x=\"",
        "\"a\":\"",
        "https://u:",
        "a@",
        "sk-proj-",
        "glpat-",
        "Authorization: =\"",
        "pwd=\"/",
        "pass\\u0077ord=",
        "AAAAAAAAAAAAAAAAAAAA.",
        "'password': b'",
        "<password>",
        "<password><![CDATA[",
        "<a name=\"password\" value=\"",
        "<a name=\"password\" ",
        "<a ",
        "%25",
        "&amp;",
        "&#61;",
        "\x1b[",
        "\x1b[33m",
        "\x1b]8;;",
        "\\u001b[33m",
        "\u{9b}1",
        "%22password%22%3A%22",
        "&quot;password&quot;:&quot;",
        "password\\u003d",
        "password＝",
        "name=\"password\"\r\n\r\n",
        "form-data; name=\"password\"\r\n\r\n",
        " -u a:",
        " --user=",
        ":secret:",
        "Pass: 1 ",
        "password=<",
        "password:\n",
        "password:\n\n",
        "Bearer a=",
        "https://aaaaaaaaaaaaaaaaaaaaaaa1@",
        "password===",
        "--password ",
        "--password x ",
        " -password\t\"",
        " --api-key to ",
        "password:\n",
        "password:\\n  ",
        "password:\n  x",
        "password: |\n  ",
        "{\"name\":\"password\",",
        "{\"name\":\"password\",\"value\":",
        "{\"value\":\"",
        "\"value\":\"x\",\"name\":\"",
        "value:x,name:",
        "\\\"value\\\":\\\"",
        "&key=",
        "/?key=",
        "?code=x&",
        "sk-aaaaaaaaaaaaaaaaT3BlbkFJ",
        "xdapi",
        "https://Aa1aaaaaaaaaaaaa@",
    ];
    let mut texts: Vec<(String, String)> = units
        .iter()
        .map(|u| {
            (
                format!("{u:?} repeated"),
                u.repeat(len / u.len().max(1) + 1),
            )
        })
        .collect();
    let jwt = format!("eyJ{}.eyJ{}.", "a".repeat(len / 2), "b".repeat(len / 2));
    texts.push(("a JWT-looking string".into(), jwt));
    texts.push((
        "nested brackets".into(),
        format!("password={}", "[".repeat(len)),
    ));
    texts.push(("backslashes".into(), "\\".repeat(len)));
    texts.push((
        "spaces after a key".into(),
        format!("password={} x", " ".repeat(len)),
    ));
    texts.push((
        "a long key".into(),
        format!("{}password=x", "k".repeat(len)),
    ));
    texts.push((
        "no spaces URL".into(),
        format!("https://{}", "a:b".repeat(len / 3)),
    ));
    texts.push((
        "an element that never closes".into(),
        format!("<password>{}", "x".repeat(len)),
    ));
    texts.push((
        "a tag that never ends".into(),
        format!("<input name=\"password\" {}", "a=b ".repeat(len / 4)),
    ));
    texts.push((
        "white space before a value".into(),
        format!("\"password\":{}x", "\n ".repeat(len / 2)),
    ));
    texts.push((
        "a URL query without spaces".into(),
        format!("https://h/p?{}", "a=1&key=".repeat(len / 8)),
    ));
    texts.push((
        "a query-like run without a URL".into(),
        format!("x?{}", "&code=".repeat(len / 6)),
    ));
    texts.push((
        "a value-first pair whose value never closes".into(),
        format!("{{\"value\":\"{}", "a".repeat(len)),
    ));
    texts.push((
        "values of value-first pairs".into(),
        "{\"value\":\"x\"} ".repeat(len / 14),
    ));
    texts
}

#[test]
fn scrubbing_is_linear_in_the_length_of_the_text() {
    let (small, large) = (16 * 1024, 128 * 1024);
    let mut slow = Vec::new();
    for ((name, short), (_, long)) in adversarial(small).into_iter().zip(adversarial(large)) {
        let (w_short, w_long) = (work_for(&short), work_for(&long));
        let per_byte = w_long as f64 / long.len() as f64;
        let growth = w_long as f64 / w_short.max(1) as f64;
        let size_growth = long.len() as f64 / short.len() as f64;
        if per_byte > 64.0 || growth > 1.5 * size_growth {
            slow.push(format!(
                "{name}: {per_byte:.1} per byte, x{growth:.1} for x{size_growth:.1}"
            ));
        }
    }
    assert!(slow.is_empty(), "{}", slow.join("\n"));
}

#[test]
fn a_mebibyte_of_adversarial_text_is_scrubbed_idempotently() {
    for (name, text) in adversarial(1 << 20).into_iter().step_by(7) {
        let r = Redactor::new();
        let once = r.scrub(&text).into_owned();
        assert_eq!(r.scrub(&once), once, "{name}");
    }
}

#[test]
fn wide_characters_next_to_every_trigger_never_split_a_character() {
    let triggers = [
        "password=",
        "password: \"",
        "'password': b'",
        "\\\"password\\\":\\\"",
        "pass\\u0077ord=",
        "%3D",
        "%2F%2F",
        "//u:",
        "https://u:p@",
        "\\/\\/",
        "-----BEGIN RSA PRIVATE KEY-----",
        "PuTTY-User-Key-File-3:",
        "Private-MAC:",
        "eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiIxMjM0NTY3ODkwIn0.",
        "ghp_",
        "AKIA",
        "sk-",
        "Bearer ",
        "Authorization: ",
        "Cookie: a=",
        "[",
        "{",
        "\\",
        "%",
        "\\n",
        "\\u00",
        "<-",
        ":=",
        "=>",
        "tokens=",
        "PWD=",
    ];
    let wide = ["é", "€", "😀", "\u{200B}", "\u{FFFD}", "ﬀ"];
    let r = Redactor::new();
    for t in triggers {
        for w in wide {
            let cuts: Vec<usize> = (0..=t.len()).filter(|c| t.is_char_boundary(*c)).collect();
            for c in cuts {
                for text in [
                    format!("{w}{}{w}{}{w}", &t[..c], &t[c..]),
                    format!("{}{w}{w}{w}{}", &t[..c], &t[c..]).repeat(3),
                ] {
                    let once = r.scrub(&text).into_owned();
                    assert_eq!(r.scrub(&once), once, "{text:?}");
                }
            }
        }
    }
}

#[test]
fn hostile_inputs_of_the_brief_finish_and_stay_idempotent() {
    let r = Redactor::new();
    let jwt = format!(
        "eyJ{}.eyJ{}.{}",
        "a".repeat(1 << 19),
        "b".repeat(1 << 19),
        "c".repeat(64)
    );
    for text in [
        String::new(),
        "\\".repeat(1 << 20),
        "[".repeat(100_000),
        format!("password={}", "[".repeat(100_000)),
        "password=".repeat(100_000),
        jwt,
        "<password>".repeat(100_000),
        "%25".repeat(300_000),
        "&amp;".repeat(200_000),
        "\x1b[".repeat(100_000),
        "\x1b[33mpassword=".repeat(50_000),
        "--password ".repeat(100_000),
        "password:\n".repeat(100_000),
        "password:\\n  ".repeat(100_000),
        "{\"name\":\"password\",".repeat(100_000),
        "{\"value\":\"".repeat(100_000),
        format!("https://h/p?{}", "&key=".repeat(100_000)),
    ] {
        WORK.with(|w| w.set(0));
        let once = r.scrub(&text).into_owned();
        let work = WORK.with(|w| w.get());
        assert!(
            work <= 64 * text.len() as u64 + 64,
            "{work} for {} bytes",
            text.len()
        );
        assert_eq!(r.scrub(&once), once);
    }
    assert_eq!(r.scrub(&"[".repeat(100_000)), "[".repeat(100_000));
}
