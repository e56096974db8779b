"""Teaching's pure core: plain functions over plain data (no ORM, no model call). Module
schemas, rule checks, mistake families, language detection, filtering sentences into
mistake groups, and FSRS scheduling."""
