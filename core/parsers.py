"""The API's request parser (its own module: DRF reads parser settings while importing
its views, so this must not import them)."""

from rest_framework import exceptions, parsers


class JSONParser(parsers.JSONParser):
    """DRF's JSON parser, refusing JSON nested deeper than Python's parser can go (a 2 KB
    body of nested arrays) with a 400 instead of a RecursionError."""

    def parse(self, stream, media_type=None, parser_context=None):
        try:
            return super().parse(stream, media_type, parser_context)
        except RecursionError as error:
            raise exceptions.ParseError("JSON parse error - nested too deeply") from error
