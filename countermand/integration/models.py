"""Integration data model: connections to ERPs, job definitions, and job runs (the queue) with their logs."""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils import timezone

from countermand.core.crypto import decrypt_secret, encrypt_secret


class IntegrationConnection(models.Model):
    """How to reach one ERP. The password is stored encrypted and never shown or logged."""

    class BreakerState(models.TextChoices):
        CLOSED = "Closed"
        OPEN = "Open"
        HALF_OPEN = "HalfOpen"

    name = models.CharField(max_length=200, unique=True)
    type_name = models.CharField("type", max_length=50)
    url = models.CharField("URL", max_length=500, blank=True)
    log_on = models.CharField(max_length=200, blank=True)
    password_encrypted = models.TextField(blank=True, editable=False)
    timeout_seconds = models.PositiveIntegerField(default=30)
    options = models.JSONField(default=dict, blank=True)
    is_active = models.BooleanField(default=True)
    max_concurrent_jobs = models.PositiveIntegerField(
        default=4, help_text="Jobs that may call this ERP at the same time, across all workers."
    )
    # Circuit breaker, shared by every worker through the database.
    breaker_state = models.CharField(max_length=10, choices=BreakerState.choices, default=BreakerState.CLOSED)
    breaker_failures = models.PositiveIntegerField(default=0)
    breaker_open_until = models.DateTimeField(null=True, blank=True)
    breaker_threshold = models.PositiveIntegerField(
        default=5, help_text="Consecutive transient failures that open the circuit breaker (pausing this ERP)."
    )
    breaker_cooldown_seconds = models.PositiveIntegerField(
        default=30, help_text="How long an open breaker pauses the ERP before one probe job is let through."
    )
    # The configuration error the last attempt met (plugin.ConfigurationError: the ERP refused the log-on…).
    # While set, the connection's jobs fail with it at once, without calling the ERP (every refused log-in
    # brings an ERP's lock-out closer); editing the connection or a successful Test connection clears it.
    configuration_error = models.TextField(blank=True, editable=False)
    configuration_error_at = models.DateTimeField(null=True, blank=True, editable=False)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name

    def set_password(self, plaintext: str) -> None:
        self.password_encrypted = encrypt_secret(plaintext)

    def get_password(self) -> str:
        return decrypt_secret(self.password_encrypted)

    @property
    def has_password(self) -> bool:
        return bool(self.password_encrypted)


class JobDefinition(models.Model):
    """What to run: the processors, the connection, the parameters, retries and recurrence.

    Written through countermand.integration.services.job_definition_save, which checks the processors
    and the recurrence (job_definition_validate) and audits the change."""

    class JobType(models.TextChoices):
        REFRESH = "Refresh"
        SUBMIT = "Submit"
        EXECUTION = "Execution"
        REPORT = "Report"

    class NotifyCondition(models.TextChoices):
        NONE = "", "None"
        FAILURE = "Failure"
        COMPLETION = "Completion"

    name = models.CharField("job name", max_length=255, unique=True)
    description = models.TextField(blank=True)
    job_type = models.CharField(max_length=20, choices=JobType.choices, default=JobType.EXECUTION)
    connection = models.ForeignKey(
        IntegrationConnection, null=True, blank=True, on_delete=models.PROTECT, related_name="job_definitions"
    )
    preprocessor = models.CharField(max_length=100, default="None")
    integration_processor = models.CharField(max_length=100, default="None")
    post_processor = models.CharField(max_length=100, default="None")
    notify_email = models.CharField(max_length=500, blank=True, help_text="Comma-separated addresses.")
    notify_condition = models.CharField(max_length=20, choices=NotifyCondition.choices, blank=True, default="")
    max_retries = models.PositiveIntegerField(default=5)
    retry_backoff_seconds = models.PositiveIntegerField(default=10, help_text="First retry delay; doubles each time.")
    timeout_seconds = models.PositiveIntegerField(default=120)
    recurring_interval_seconds = models.PositiveIntegerField(null=True, blank=True)
    recurring_cron = models.CharField(max_length=200, blank=True)
    debugging_enabled = models.BooleanField(default=False)
    is_active = models.BooleanField(default=True)
    last_run_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name

    @property
    def is_recurring(self) -> bool:
        return bool(self.recurring_interval_seconds or self.recurring_cron)


class JobDefinitionParameter(models.Model):
    class ValueType(models.TextChoices):
        STRING = "String"
        NUMBER = "Number"
        BOOLEAN = "Boolean"
        DATE = "Date"

    job_definition = models.ForeignKey(JobDefinition, on_delete=models.CASCADE, related_name="parameters")
    sequence = models.PositiveIntegerField(default=1)
    name = models.CharField(max_length=255)
    value_type = models.CharField(max_length=20, choices=ValueType.choices, default=ValueType.STRING)
    default_value = models.CharField(max_length=1024, blank=True)
    prompt = models.CharField(max_length=1024, blank=True)
    is_required = models.BooleanField("required", default=False)

    class Meta:
        ordering = ["job_definition_id", "sequence", "id"]
        constraints = [models.UniqueConstraint(fields=["job_definition", "name"], name="one_parameter_name_per_job")]

    def __str__(self) -> str:
        return self.name


OPEN_JOB_STATUSES = ("Queued", "InProcess")


class IntegrationJob(models.Model):
    """One queued or executed run of a job definition. The table is the queue."""

    class Status(models.TextChoices):
        QUEUED = "Queued"
        IN_PROCESS = "InProcess"
        SUCCESS = "Success"
        SUCCESS_WITH_WARNINGS = "SuccessWithWarnings"
        FAILURE = "Failure"
        CANCELLED = "Cancelled"

    definition = models.ForeignKey(JobDefinition, on_delete=models.PROTECT, related_name="jobs")
    connection = models.ForeignKey(
        IntegrationConnection, null=True, blank=True, on_delete=models.SET_NULL, related_name="jobs"
    )
    order = models.ForeignKey("orders.Order", null=True, blank=True, on_delete=models.SET_NULL, related_name="jobs")
    status = models.CharField(max_length=30, choices=Status.choices, default=Status.QUEUED)
    schedule_at = models.DateTimeField()
    started_at = models.DateTimeField(null=True, blank=True)
    finished_at = models.DateTimeField(null=True, blank=True)
    attempt = models.PositiveIntegerField(default=0)
    max_attempts = models.PositiveIntegerField(default=1)
    lease_owner = models.CharField(max_length=100, blank=True)
    lease_expires_at = models.DateTimeField(null=True, blank=True)
    dedupe_key = models.CharField(max_length=200, null=True, blank=True)
    idempotency_key = models.CharField(max_length=100, blank=True)
    # The registered JobHandler told of the job's final outcome (`integration/handlers.py`); "" for none.
    handler = models.CharField(max_length=100, blank=True, default="")
    schedule_slot = models.CharField(max_length=50, null=True, blank=True)
    result = models.JSONField(default=dict, blank=True)
    error = models.TextField(blank=True)
    record_count = models.PositiveIntegerField(default=0)
    warning_count = models.PositiveIntegerField(default=0)
    error_count = models.PositiveIntegerField(default=0)
    requested_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    # Set by job_cancel on a running job: the worker ends the attempt as Cancelled instead of retrying it.
    cancel_requested = models.BooleanField(default=False)
    retry_of = models.ForeignKey(
        "self", null=True, blank=True, on_delete=models.SET_NULL, related_name="retries", help_text="Re-run of a job."
    )
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-id"]
        indexes = [
            models.Index(fields=["status", "schedule_at"], name="job_queue_idx"),
            models.Index(fields=["status", "lease_expires_at"], name="job_lease_idx"),
            models.Index(fields=["connection", "status", "schedule_at"], name="job_connection_status_idx"),
            models.Index(fields=["status", "finished_at"], name="job_finished_idx"),
        ]
        constraints = [
            models.UniqueConstraint(
                fields=["dedupe_key"], condition=Q(status__in=OPEN_JOB_STATUSES), name="one_open_job_per_dedupe_key"
            ),
            models.UniqueConstraint(fields=["definition", "schedule_slot"], name="one_job_per_schedule_slot"),
        ]

    def __str__(self) -> str:
        return f"#{self.pk} {self.definition_id}"

    @property
    def job_number(self) -> int:
        return self.pk

    @property
    def is_open(self) -> bool:
        return self.status in OPEN_JOB_STATUSES

    @property
    def duration_seconds(self) -> float | None:
        if self.started_at and self.finished_at:
            return (self.finished_at - self.started_at).total_seconds()
        return None


class IntegrationJobParameter(models.Model):
    job = models.ForeignKey(IntegrationJob, on_delete=models.CASCADE, related_name="parameters")
    definition_parameter = models.ForeignKey(
        JobDefinitionParameter, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    name = models.CharField(max_length=255)
    value = models.TextField(blank=True)

    class Meta:
        ordering = ["job_id", "id"]
        constraints = [models.UniqueConstraint(fields=["job", "name"], name="one_value_per_job_parameter")]

    def __str__(self) -> str:
        return f"{self.name}={self.value}"


class IntegrationJobLog(models.Model):
    class Level(models.TextChoices):
        DEBUG = "Debug"
        INFO = "Info"
        WARN = "Warn"
        ERROR = "Error"
        FATAL = "Fatal"

    job = models.ForeignKey(IntegrationJob, on_delete=models.CASCADE, related_name="logs")
    sequence = models.PositiveIntegerField()
    attempt = models.PositiveIntegerField(default=0)
    level = models.CharField(max_length=10, choices=Level.choices)
    logged_at = models.DateTimeField(default=timezone.now)
    message = models.TextField()
    module_name = models.CharField(max_length=100, blank=True)

    class Meta:
        ordering = ["job_id", "sequence"]
        constraints = [models.UniqueConstraint(fields=["job", "sequence"], name="one_log_line_per_sequence")]

    def __str__(self) -> str:
        return f"{self.level}: {self.message[:60]}"
