from config.parsers import SafeJSONParser


class MergePatchParser(SafeJSONParser):
    """PATCH bodies may say what they are: application/merge-patch+json (RFC 7396)."""

    media_type = "application/merge-patch+json"
