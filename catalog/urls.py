app_name = "catalog"

# The song-sources pages are added here.
urlpatterns: list = []
