"""The API's JSON parser: DRF's, made safe against hostile nesting."""

from rest_framework.exceptions import ParseError
from rest_framework.parsers import JSONParser


class SafeJSONParser(JSONParser):
    """DRF's JSONParser, answering 400 for JSON nested too deeply to parse.

    Python's decoder raises RecursionError (not ValueError) on a body such as
    100,000 opening brackets; DRF lets it escape and the request would end as a
    500. No valid customer payload is nested more than four levels deep.
    """

    def parse(self, stream, media_type=None, parser_context=None):
        try:
            return super().parse(stream, media_type, parser_context)
        except RecursionError:
            raise ParseError("JSON parse error - the document is nested too deeply.") from None


class MergePatchParser(SafeJSONParser):
    """PATCH bodies may say what they are: application/merge-patch+json (RFC 7396)."""

    media_type = "application/merge-patch+json"
