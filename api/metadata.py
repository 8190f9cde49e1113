from rest_framework.metadata import SimpleMetadata


class ApiMetadata(SimpleMetadata):
    """OPTIONS answers name, description, parsers and renderers, without a field list.

    The API validates in the domain layer, not in DRF serializers, so DRF's
    default (which describes a serializer's fields) has nothing to describe
    and would fail.
    """

    def determine_actions(self, request, view):
        return {}
