"""The REST API: one APIView per resource path, each method adapting the request to one existing
service or selector. Business rules live in the apps (predictions, catalog, samples), not here.

One module per resource; api.urls names each view by its module."""
