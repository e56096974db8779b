"""Documents: uploads, ingestion and retrieval."""

from config.settings.base import env

# Largest upload accepted (413 beyond it), and the most pages a PDF may have.
DOCUMENT_MAX_BYTES = env.int("DOCUMENT_MAX_BYTES", default=10 * 1024 * 1024)
# The largest request body of any kind (an upload with its multipart framing): refused
# with 413 by its Content-Length before it is read, or as soon as a chunked one passes it.
REQUEST_MAX_BYTES = env.int("REQUEST_MAX_BYTES", default=DOCUMENT_MAX_BYTES + 1024 * 1024)
DOCUMENT_MAX_PAGES = env.int("DOCUMENT_MAX_PAGES", default=1000)
# What one document may yield: characters of extracted text (a PDF stops at the first
# page past it) and passages to index; beyond either it fails with a reason naming it.
DOCUMENT_MAX_TEXT_CHARS = env.int("DOCUMENT_MAX_TEXT_CHARS", default=3_000_000)
DOCUMENT_MAX_CHUNKS = env.int("DOCUMENT_MAX_CHUNKS", default=6_000)
# CPU seconds a PDF or web page may take to parse (in a child process the kernel ends);
# a small file crafted with millions of text operators would otherwise take minutes.
DOCUMENT_PARSE_SECONDS = env.int("DOCUMENT_PARSE_SECONDS", default=60)
# Chunks of at most this many characters, neighbours sharing about OVERLAP of them.
DOCUMENT_CHUNK_CHARS = env.int("DOCUMENT_CHUNK_CHARS", default=800)
DOCUMENT_CHUNK_OVERLAP = env.int("DOCUMENT_CHUNK_OVERLAP", default=120)
# Chunks embedded per llm.embed call during ingestion (progress is reported per batch).
DOCUMENT_EMBED_BATCH = env.int("DOCUMENT_EMBED_BATCH", default=128)
DOCUMENT_INGEST_MAX_ATTEMPTS = env.int("DOCUMENT_INGEST_MAX_ATTEMPTS", default=3)
# Documents one conversation may draw on.
DOCUMENTS_PER_CONVERSATION = env.int("DOCUMENTS_PER_CONVERSATION", default=20)
# Retrieval: the chunks put in a prompt, the candidates each ranking contributes to the
# fusion, reciprocal rank fusion's constant, and the least relevance (cosine plus 3/4 of
# the share of the question's words found in it) a chunk needs to be used; when none
# reaches it the tutor is told nothing relevant was found. See docs/retrieval.md.
RETRIEVAL_TOP_K = env.int("RETRIEVAL_TOP_K", default=5)
RETRIEVAL_CANDIDATES = env.int("RETRIEVAL_CANDIDATES", default=30)
# Lexical search ranks at most this many matching chunks (a common word would have it
# score most of the chunks in scope; dense search still ranks them all).
RETRIEVAL_LEXICAL_MAX_MATCHES = env.int("RETRIEVAL_LEXICAL_MAX_MATCHES", default=1000)
RETRIEVAL_RRF_K = env.int("RETRIEVAL_RRF_K", default=60)
RETRIEVAL_MIN_RELEVANCE = env.float("RETRIEVAL_MIN_RELEVANCE", default=0.5)
# Chunk vectors kept in each process's memory for dense search (about 1 KB per chunk).
RETRIEVAL_VECTOR_CACHE_CHUNKS = env.int("RETRIEVAL_VECTOR_CACHE_CHUNKS", default=200_000)
# Documents one account may keep.
DOCUMENTS_PER_USER = env.int("DOCUMENTS_PER_USER", default=200)
