"""What blocks the event loop: the knowledge base of FAPI201, FAPI203, FAPI204 and FAPI205.

Two kinds of facts, by qualified name (as `FileModel.qualified_name` spells them):

- functions that block when called (`time.sleep`, `requests.get`) or burn CPU (`bcrypt.hashpw`);
- types whose *methods* block (`httpx.Client.get`, `redis.Redis.get`), with the calls and
  annotations that produce an instance, and what their methods and attributes return
  (`boto3.Session().client(...)` is a client, `client.db.users` a pymongo collection).

Pure data: no LibCST here. `receivers.py` infers which of these types an expression has.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field

FAPI201 = "FAPI201"  # blocking I/O
FAPI203 = "FAPI203"  # sync SQLAlchemy session
FAPI204 = "FAPI204"  # AsyncSession coroutines
FAPI205 = "FAPI205"  # CPU-bound hashing


@dataclass(frozen=True)
class SyncType:
    """A type whose methods matter to a rule, and what its members evaluate to."""

    name: str  # shown in messages, with the method: `httpx.Client.get`
    rule: str | None = None  # the rule that reports its methods; None: only a stepping stone
    methods: frozenset[str] = frozenset()  # the methods that block (or are coroutines)
    # When set, every public method blocks except these (boto3 clients: generated operations).
    all_methods_except: frozenset[str] | None = None
    returns: Mapping[str, str] = field(default_factory=dict)  # method -> type of its result
    attributes: Mapping[str, str] = field(default_factory=dict)  # attribute -> its type
    other_attributes: str | None = None  # type of any other public attribute (pymongo)
    not_other_attributes: frozenset[str] = frozenset()  # real attributes, not databases
    items: str | None = None  # type of `x[...]`
    call_result: str | None = None  # type of `x(...)` (a session factory)
    # Type of what a capitalised method returns (boto3 `s3.Bucket("b")`): a local object.
    subresources: str | None = None
    # Its value comes from a call FAPI201 reports itself (`open()`): its methods are not
    # reported again in the function that made it.
    made_by_blocking_call: bool = False

    def blocks(self, method: str) -> bool:
        if method.startswith("_") or (self.subresources is not None and method[:1].isupper()):
            return False
        if self.all_methods_except is not None:
            return method not in self.all_methods_except and method not in self.returns
        return method in self.methods


def _verbs(*extra: str) -> frozenset[str]:
    return frozenset({*HTTP_VERBS, *extra})


HTTP_VERBS = ("get", "post", "put", "patch", "delete", "head", "options", "request")
FILE = "file"
PATH = "pathlib.Path"
HTTPX_CLIENT = "httpx.Client"
REQUESTS_SESSION = "requests.Session"
REDIS = "redis.Redis"
REDIS_PIPELINE = "redis.client.Pipeline"
MONGO_CLIENT = "pymongo.MongoClient"
MONGO_DATABASE = "pymongo.database.Database"
MONGO_COLLECTION = "pymongo.collection.Collection"
BOTO3_SESSION = "boto3.Session"
BOTO3_CLIENT = "botocore.client.BaseClient"
BOTO3_RESOURCE = "boto3.resources.base.ServiceResource"
BOTO3_RESOURCE_META = "boto3.resources.base.ResourceMeta"
POOL_MANAGER = "urllib3.PoolManager"
SESSION = "sqlalchemy.orm.Session"
SESSION_FACTORY = "sqlalchemy.orm.sessionmaker"
SCOPED_SESSION = "sqlalchemy.orm.scoped_session"
ASYNC_SESSION = "sqlalchemy.ext.asyncio.AsyncSession"
ASYNC_SESSION_FACTORY = "sqlalchemy.ext.asyncio.async_sessionmaker"
CRYPT_CONTEXT = "passlib.context.CryptContext"
ARGON2_HASHER = "argon2.PasswordHasher"
PWDLIB_HASH = "pwdlib.PasswordHash"

# The I/O methods of a sync SQLAlchemy/SQLModel session (`add` only stages an object).
_SESSION_IO = frozenset(
    {"execute", "exec", "query", "scalars", "scalar", "get", "get_one", "commit", "flush",
     "refresh", "delete", "merge", "rollback"}
)  # fmt: skip
# The coroutine methods of AsyncSession (`add`, `expunge`, `begin` are not coroutines).
_ASYNC_SESSION_COROUTINES = frozenset(
    {"execute", "exec", "scalars", "scalar", "get", "get_one", "commit", "flush", "refresh",
     "delete", "merge", "rollback", "close", "stream", "stream_scalars", "run_sync",
     "connection", "invalidate", "reset"}
)  # fmt: skip
# Redis commands people call (an allowlist: helpers like `pipeline`, `lock` or `pubsub` do no
# I/O when called).
_REDIS_COMMANDS = frozenset(
    {"get", "set", "setex", "setnx", "psetex", "getset", "getdel", "getex", "mget", "mset",
     "msetnx", "delete", "unlink", "exists", "expire", "expireat", "pexpire", "pexpireat",
     "persist", "ttl", "pttl", "incr", "incrby", "incrbyfloat", "decr", "decrby", "append",
     "strlen", "keys", "scan", "scan_iter", "type", "rename", "hget", "hset", "hmset", "hmget",
     "hgetall", "hdel", "hexists", "hincrby", "hincrbyfloat", "hkeys", "hvals", "hlen",
     "hscan", "hscan_iter", "hsetnx", "lpush", "rpush", "lpop", "rpop", "blpop", "brpop",
     "lrange", "llen", "lrem", "lset", "lindex", "ltrim", "linsert", "lmove", "rpoplpush",
     "sadd", "srem", "smembers", "sismember", "smismember", "scard", "spop", "srandmember",
     "sinter", "sunion", "sdiff", "sscan", "sscan_iter", "zadd", "zrem", "zrange",
     "zrevrange", "zrangebyscore", "zrevrangebyscore", "zscore", "zincrby", "zcard",
     "zcount", "zrank", "zrevrank", "zremrangebyscore", "zremrangebyrank", "zpopmin",
     "zpopmax", "zscan", "zscan_iter", "publish", "ping", "flushdb", "flushall", "info",
     "dbsize", "eval", "evalsha", "xadd", "xread", "xreadgroup", "xrange", "xrevrange",
     "xlen", "xack", "xdel", "xtrim", "xgroup_create", "pfadd", "pfcount", "setbit",
     "getbit", "bitcount", "geoadd", "geosearch", "georadius", "script_load", "config_get",
     "config_set", "execute_command", "transaction"}
)  # fmt: skip
_MONGO_COLLECTION_IO = frozenset(
    {"find", "find_one", "find_one_and_update", "find_one_and_replace", "find_one_and_delete",
     "insert_one", "insert_many", "update_one", "update_many", "replace_one", "delete_one",
     "delete_many", "count_documents", "estimated_document_count", "aggregate", "distinct",
     "bulk_write", "create_index", "create_indexes", "drop", "drop_index", "drop_indexes",
     "list_indexes", "index_information", "watch", "rename", "options", "find_raw_batches",
     "aggregate_raw_batches", "insert", "update", "remove", "save", "count",
     "find_and_modify"}
)  # fmt: skip
_MONGO_CLIENT_IO = frozenset(
    {"server_info", "list_database_names", "list_databases", "drop_database", "database_names"}
)
_MONGO_DATABASE_IO = frozenset(
    {"command", "list_collection_names", "list_collections", "create_collection",
     "drop_collection", "validate_collection", "collection_names", "aggregate", "watch",
     "dereference"}
)  # fmt: skip
# Data and directory reads and writes. Single metadata calls (exists, stat, mkdir, unlink,
# rename) are as cheap as their os.path and os twins, which are not reported either.
_PATH_IO = frozenset(
    {"read_text", "read_bytes", "write_text", "write_bytes", "open", "glob", "rglob", "iterdir",
     "walk"}
)  # fmt: skip
_PATH_TO_PATH = ("joinpath", "with_name", "with_suffix", "with_stem", "resolve", "absolute",
                 "expanduser", "relative_to")  # fmt: skip
_FILE_IO = frozenset(
    {"read", "read1", "readinto", "readline", "readlines", "readall", "write", "writelines",
     "flush"}
)  # fmt: skip
# The local helpers of a boto3 client: every other method is an HTTP call to AWS.
_BOTO3_CLIENT_LOCAL = frozenset(
    {"generate_presigned_url", "generate_presigned_post", "get_paginator", "get_waiter",
     "can_paginate", "close"}
)  # fmt: skip
# Attributes of pymongo objects that are not databases or collections.
_MONGO_PLAIN_ATTRIBUTES = frozenset(
    {"name", "full_name", "client", "database", "codec_options", "read_preference",
     "write_concern", "read_concern", "address", "primary", "secondaries", "arbiters",
     "is_primary", "is_mongos", "nodes", "options", "topology_description", "HOST", "PORT"}
)  # fmt: skip

TYPES: dict[str, SyncType] = {
    t.name: t
    for t in (
        SyncType(HTTPX_CLIENT, FAPI201, _verbs("send", "stream")),
        SyncType(REQUESTS_SESSION, FAPI201, _verbs("send")),
        SyncType(POOL_MANAGER, FAPI201, frozenset({"request", "urlopen"})),
        # No socket methods: sockets in async code are usually non-blocking ones, driven by
        # the loop (`sock.setblocking(False)`, then `sock.accept()` when readable).
        SyncType(
            PATH,
            FAPI201,
            _PATH_IO,
            returns={"open": FILE, **dict.fromkeys(_PATH_TO_PATH, PATH)},
            attributes={"parent": PATH},
        ),
        # Files from `open()`: an in-memory BytesIO is not one, nor is a `typing.IO`.
        SyncType(
            FILE,
            FAPI201,
            _FILE_IO,
            made_by_blocking_call=True,
        ),
        SyncType(REDIS, FAPI201, _REDIS_COMMANDS, returns={"pipeline": REDIS_PIPELINE}),
        SyncType(REDIS_PIPELINE, FAPI201, frozenset({"execute"})),
        SyncType(
            MONGO_CLIENT,
            FAPI201,
            _MONGO_CLIENT_IO,
            returns={"get_database": MONGO_DATABASE, "get_default_database": MONGO_DATABASE},
            other_attributes=MONGO_DATABASE,
            not_other_attributes=_MONGO_PLAIN_ATTRIBUTES,
            items=MONGO_DATABASE,
        ),
        SyncType(
            MONGO_DATABASE,
            FAPI201,
            _MONGO_DATABASE_IO,
            returns={"get_collection": MONGO_COLLECTION, "with_options": MONGO_DATABASE},
            other_attributes=MONGO_COLLECTION,
            not_other_attributes=_MONGO_PLAIN_ATTRIBUTES,
            items=MONGO_COLLECTION,
        ),
        SyncType(
            MONGO_COLLECTION,
            FAPI201,
            _MONGO_COLLECTION_IO,
            returns={"with_options": MONGO_COLLECTION},
            other_attributes=MONGO_COLLECTION,  # `db.app.users`: a sub-collection
            not_other_attributes=_MONGO_PLAIN_ATTRIBUTES,
            items=MONGO_COLLECTION,
        ),
        SyncType(BOTO3_SESSION, returns={"client": BOTO3_CLIENT, "resource": BOTO3_RESOURCE}),
        SyncType(
            BOTO3_CLIENT,
            FAPI201,
            all_methods_except=_BOTO3_CLIENT_LOCAL,
        ),
        # Resources: `Bucket(...)`/`Object(...)` (capitalised) only build a local object;
        # lowercase methods are actions (`obj.put()`, `table.query()`).
        SyncType(
            BOTO3_RESOURCE,
            FAPI201,
            all_methods_except=frozenset({"get_available_subresources", "batch_writer"}),
            attributes={"meta": BOTO3_RESOURCE_META},
            subresources=BOTO3_RESOURCE,
        ),
        SyncType(BOTO3_RESOURCE_META, attributes={"client": BOTO3_CLIENT}),
        SyncType(SESSION, FAPI203, _SESSION_IO),
        SyncType(SCOPED_SESSION, FAPI203, _SESSION_IO, call_result=SESSION),
        SyncType(SESSION_FACTORY, call_result=SESSION, returns={"begin": SESSION}),
        SyncType(ASYNC_SESSION, FAPI204, _ASYNC_SESSION_COROUTINES),
        SyncType(
            ASYNC_SESSION_FACTORY, call_result=ASYNC_SESSION, returns={"begin": ASYNC_SESSION}
        ),
        SyncType(
            CRYPT_CONTEXT,
            FAPI205,
            frozenset({"hash", "verify", "verify_and_update", "encrypt", "dummy_verify"}),
        ),
        SyncType(ARGON2_HASHER, FAPI205, frozenset({"hash", "verify"})),
        SyncType(PWDLIB_HASH, FAPI205, frozenset({"hash", "verify", "verify_and_update"})),
    )
}


def _spellings(mapping: Mapping[str, tuple[str, ...]]) -> dict[str, str]:
    """{type: (qualified names...)} -> {qualified name: type}."""
    return {spelling: kind for kind, spellings in mapping.items() for spelling in spellings}


_PATH_CLASSES = ("pathlib.Path", "pathlib.PosixPath", "pathlib.WindowsPath")
_SESSION_CLASSES = (
    "sqlalchemy.orm.Session",
    "sqlalchemy.orm.session.Session",
    "sqlmodel.Session",
    "sqlmodel.orm.session.Session",
)
_ASYNC_SESSION_CLASSES = (
    "sqlalchemy.ext.asyncio.AsyncSession",
    "sqlalchemy.ext.asyncio.session.AsyncSession",
    "sqlmodel.ext.asyncio.session.AsyncSession",
)
_REDIS_CLASSES = (
    "redis.Redis",
    "redis.StrictRedis",
    "redis.client.Redis",
    "redis.client.StrictRedis",
)
_MONGO_CLIENTS = ("pymongo.MongoClient", "pymongo.mongo_client.MongoClient")

# Classes whose annotation gives a name its type (`client: httpx.Client`).
ANNOTATIONS: dict[str, str] = _spellings(
    {
        PATH: _PATH_CLASSES,
        FILE: ("io.TextIOWrapper", "io.BufferedReader", "io.BufferedWriter",
               "io.BufferedRandom", "io.FileIO"),
        HTTPX_CLIENT: ("httpx.Client", "httpx2.Client"),
        REQUESTS_SESSION: ("requests.Session", "requests.sessions.Session"),
        POOL_MANAGER: ("urllib3.PoolManager",),
        REDIS: _REDIS_CLASSES,
        REDIS_PIPELINE: ("redis.client.Pipeline",),
        MONGO_CLIENT: _MONGO_CLIENTS,
        MONGO_DATABASE: ("pymongo.database.Database",),
        MONGO_COLLECTION: ("pymongo.collection.Collection",),
        BOTO3_SESSION: ("boto3.Session", "boto3.session.Session"),
        BOTO3_CLIENT: ("botocore.client.BaseClient",),
        SESSION: _SESSION_CLASSES,
        SCOPED_SESSION: ("sqlalchemy.orm.scoped_session", "sqlalchemy.orm.scoping.scoped_session"),
        SESSION_FACTORY: ("sqlalchemy.orm.sessionmaker", "sqlalchemy.orm.session.sessionmaker"),
        ASYNC_SESSION: _ASYNC_SESSION_CLASSES,
        ASYNC_SESSION_FACTORY: ("sqlalchemy.ext.asyncio.async_sessionmaker",
                                "sqlalchemy.ext.asyncio.session.async_sessionmaker"),
        CRYPT_CONTEXT: ("passlib.context.CryptContext",),
        ARGON2_HASHER: ("argon2.PasswordHasher", "argon2._password_hasher.PasswordHasher"),
        PWDLIB_HASH: ("pwdlib.PasswordHash",),
    }
)  # fmt: skip

# Calls that return an instance (constructors, factories). Constructing a client does not
# connect: `redis.Redis()`, `redis.from_url()` and `pymongo.MongoClient()` connect lazily.
CONSTRUCTORS: dict[str, str] = {
    **{name: kind for name, kind in ANNOTATIONS.items() if kind != FILE},
    **_spellings(
        {
            PATH: tuple(f"{cls}.{method}" for cls in _PATH_CLASSES for method in ("cwd", "home")),
            FILE: ("builtins.open", "io.open", "io.open_code", "os.fdopen"),
            REQUESTS_SESSION: ("requests.session", "requests.sessions.session"),
            REDIS: ("redis.from_url", *(f"{cls}.from_url" for cls in _REDIS_CLASSES)),
            BOTO3_CLIENT: ("boto3.client",),
            BOTO3_RESOURCE: ("boto3.resource",),
            PWDLIB_HASH: ("pwdlib.PasswordHash.recommended",),
        }
    ),
}

# Annotations naming a boto3 client or resource through the `mypy-boto3-*` stubs
# (`mypy_boto3_s3.S3Client`, `mypy_boto3_s3.service_resource.S3ServiceResource`).
BOTO3_STUBS_PREFIX = "mypy_boto3_"

# Functions that block the calling thread.
BLOCKING_CALLS = frozenset(
    {
        "time.sleep",
        *(f"{module}.{verb}" for module in ("requests", "requests.api") for verb in HTTP_VERBS),
        *(f"{module}.{verb}" for module in ("httpx", "httpx2") for verb in HTTP_VERBS),
        "httpx.stream",
        "httpx2.stream",
        "urllib.request.urlopen",
        "urllib.request.urlretrieve",
        "urllib3.request",
        "builtins.open",
        "builtins.input",
        "io.open",
        "io.open_code",
        "os.fdopen",
        *(
            f"subprocess.{name}"
            for name in ("run", "call", "check_call", "check_output", "getoutput",
                         "getstatusoutput", "Popen")
        ),
        "os.system",
        "os.popen",
        *(f"os.{name}" for name in ("wait", "wait3", "wait4", "waitid", "waitpid")),
        *(f"os.{name}" for name in ("spawnl", "spawnle", "spawnlp", "spawnlpe", "spawnv",
                                     "spawnve", "spawnvp", "spawnvpe", "posix_spawn",
                                     "posix_spawnp")),
        # Directory listings read the disk like open() does (os.path.exists and stat do not
        # count: a single cheap metadata call).
        "os.listdir",
        "os.scandir",
        "os.walk",
        "glob.glob",
        "glob.iglob",
        *(
            f"socket.{name}"
            for name in ("create_connection", "getaddrinfo", "gethostbyname",
                         "gethostbyname_ex", "gethostbyaddr", "getfqdn", "getnameinfo")
        ),
        *(f"shutil.{name}" for name in ("copy", "copy2", "copyfile", "copyfileobj",
                                         "copytree", "move", "rmtree")),
        # Drivers that connect when called.
        "psycopg2.connect",
        "psycopg.connect",
        "sqlite3.connect",
        "pymysql.connect",
        "MySQLdb.connect",
    }
)  # fmt: skip

# Local file I/O: opening files and listing directories, and the methods of files and paths.
# Reported only with FAPI201's `file-io` option: the files are usually small, and a reviewer
# rarely asks to move such a read off the loop (shutil's copies and deletes are reported).
LOCAL_FILE_CALLS = frozenset(
    {"builtins.open", "io.open", "io.open_code", "os.fdopen", "os.listdir", "os.scandir",
     "os.walk", "glob.glob", "glob.iglob"}
)  # fmt: skip
LOCAL_FILE_TYPES = frozenset({FILE, PATH})

# Calls passed straight to these are not run as blocking file I/O by the caller.
FILE_WRAPPERS = frozenset({"anyio.wrap_file", "trio.wrap_file"})

_PASSLIB_HANDLERS = ("bcrypt", "bcrypt_sha256", "argon2", "pbkdf2_sha256", "pbkdf2_sha512",
                     "sha256_crypt", "sha512_crypt", "scrypt")  # fmt: skip

# Functions that run a deliberately slow key-derivation (tens to hundreds of milliseconds).
CPU_BOUND_CALLS = frozenset(
    {
        "bcrypt.hashpw",
        "bcrypt.checkpw",
        "bcrypt.kdf",
        "hashlib.pbkdf2_hmac",
        "hashlib.scrypt",
        "argon2.low_level.hash_secret",
        "argon2.low_level.hash_secret_raw",
        "argon2.low_level.verify_secret",
        *(
            f"passlib.hash.{handler}.{method}"
            for handler in _PASSLIB_HANDLERS
            for method in ("hash", "verify", "encrypt")
        ),
    }
)
