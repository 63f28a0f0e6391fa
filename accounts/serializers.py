"""Input shapes. DRF's CharField already refuses NUL and lone surrogate characters
and applies the length limits, so hostile input ends as a 400 with field errors
(bodies over DATA_UPLOAD_MAX_MEMORY_SIZE never get here: BodySizeMiddleware answers 413)."""

from rest_framework import serializers

# Longer than any real password; bounds the work a request can ask of the hasher.
PASSWORD_MAX_LENGTH = 1024
TOKEN_MAX_LENGTH = 4096


class LoginSerializer(serializers.Serializer):
    username = serializers.CharField(max_length=150)
    password = serializers.CharField(max_length=PASSWORD_MAX_LENGTH, trim_whitespace=False)


class RefreshSerializer(serializers.Serializer):
    refresh_token = serializers.CharField(max_length=TOKEN_MAX_LENGTH)
