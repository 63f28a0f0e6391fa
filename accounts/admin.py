from django.contrib import admin
from django.contrib.auth.admin import UserAdmin

from accounts.models import User

admin.site.site_header = "InfinityAI administration"
admin.site.site_title = "InfinityAI admin"
admin.site.index_title = "InfinityAI"

admin.site.register(User, UserAdmin)
