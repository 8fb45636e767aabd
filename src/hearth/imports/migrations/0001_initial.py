import uuid

import django.db.models.deletion
from django.db import migrations, models

import hearth.core.time


class Migration(migrations.Migration):
    initial = True

    dependencies = [
        ("accounts", "0007_permission_choices_import"),
        ("places", "0001_initial"),
    ]

    operations = [
        migrations.CreateModel(
            name="ImportJob",
            fields=[
                (
                    "id",
                    models.BigAutoField(
                        auto_created=True, primary_key=True, serialize=False, verbose_name="ID"
                    ),
                ),
                (
                    "created_at",
                    models.DateTimeField(
                        default=hearth.core.time.now, editable=False, verbose_name="创建时间"
                    ),
                ),
                ("updated_at", models.DateTimeField(default=hearth.core.time.now, verbose_name="更新时间")),
                (
                    "public_id",
                    models.UUIDField(
                        default=uuid.uuid4, editable=False, unique=True, verbose_name="公开编号"
                    ),
                ),
                ("source", models.CharField(max_length=60, verbose_name="数据来源")),
                ("filename", models.CharField(max_length=200, verbose_name="文件名")),
                ("file_sha256", models.CharField(max_length=64, verbose_name="文件摘要")),
                ("file_size", models.PositiveIntegerField(verbose_name="文件大小")),
                ("token", models.CharField(max_length=64)),
                ("header", models.JSONField(default=list, verbose_name="表头")),
                ("header_row", models.PositiveIntegerField(default=1, verbose_name="表头行")),
                ("mapping", models.JSONField(default=dict, verbose_name="列对应")),
                (
                    "keep_unverified",
                    models.BooleanField(default=False, verbose_name="保留无法核验的旧证件号"),
                ),
                (
                    "status",
                    models.CharField(
                        choices=[
                            ("uploaded", "待确认表头"),
                            ("checking", "检查中"),
                            ("checked", "已检查，待导入"),
                            ("committing", "导入中"),
                            ("committed", "已导入"),
                            ("failed", "失败"),
                            ("cancelled", "已取消"),
                        ],
                        db_index=True,
                        default="uploaded",
                        max_length=12,
                        verbose_name="状态",
                    ),
                ),
                ("stage", models.CharField(blank=True, max_length=40, verbose_name="阶段")),
                ("progress_done", models.PositiveIntegerField(default=0)),
                ("progress_total", models.PositiveIntegerField(default=0)),
                ("cancel_requested", models.BooleanField(default=False)),
                ("counts", models.JSONField(default=dict, verbose_name="统计")),
                ("problems", models.JSONField(default=dict, verbose_name="问题行")),
                ("samples", models.JSONField(default=dict, verbose_name="样例")),
                ("stage_seconds", models.JSONField(default=dict, verbose_name="各阶段用时")),
                ("message", models.CharField(blank=True, max_length=300, verbose_name="说明")),
                ("checked_at", models.DateTimeField(blank=True, null=True, verbose_name="检查时间")),
                ("committed_at", models.DateTimeField(blank=True, null=True, verbose_name="导入时间")),
                (
                    "created_by",
                    models.ForeignKey(
                        on_delete=django.db.models.deletion.PROTECT,
                        related_name="+",
                        to="accounts.grant",
                        verbose_name="导入人",
                    ),
                ),
                (
                    "place",
                    models.ForeignKey(
                        on_delete=django.db.models.deletion.PROTECT,
                        related_name="import_jobs",
                        to="places.place",
                        verbose_name="导入到",
                    ),
                ),
            ],
            options={
                "verbose_name": "导入任务",
                "verbose_name_plural": "导入任务",
                "ordering": ["-created_at", "-id"],
            },
        ),
        migrations.CreateModel(
            name="SourceMapping",
            fields=[
                (
                    "id",
                    models.BigAutoField(
                        auto_created=True, primary_key=True, serialize=False, verbose_name="ID"
                    ),
                ),
                (
                    "created_at",
                    models.DateTimeField(
                        default=hearth.core.time.now, editable=False, verbose_name="创建时间"
                    ),
                ),
                ("updated_at", models.DateTimeField(default=hearth.core.time.now, verbose_name="更新时间")),
                ("source", models.CharField(max_length=60, unique=True, verbose_name="数据来源")),
                ("headers", models.JSONField(default=dict, verbose_name="表头对应")),
                (
                    "saved_by",
                    models.ForeignKey(
                        on_delete=django.db.models.deletion.PROTECT,
                        related_name="+",
                        to="accounts.grant",
                        verbose_name="保存人",
                    ),
                ),
            ],
            options={
                "verbose_name": "表头对应方案",
                "verbose_name_plural": "表头对应方案",
                "ordering": ["source"],
            },
        ),
    ]
