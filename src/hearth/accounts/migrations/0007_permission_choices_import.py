from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [
        ("accounts", "0006_import_permission"),
    ]

    operations = [
        migrations.AlterField(
            model_name="rolepermission",
            name="permission",
            field=models.CharField(
                choices=[
                    ("person.view", "查看人员（基本信息）"),
                    ("person.view_full", "查看人员完整信息"),
                    ("person.create", "登记人员"),
                    ("person.change", "修改人员"),
                    ("person.reveal_id", "查看完整身份证号码"),
                    ("person.export", "导出人员"),
                    ("person.import", "批量导入人员"),
                    ("export.approve", "审批导出"),
                    ("change_report.create", "报告人口变动"),
                    ("change_report.decide", "确认或退回变动报告"),
                    ("list.manage", "维护派生名单条件"),
                    ("place.view", "浏览地区与房屋"),
                    ("place.manage", "维护地区、房屋与机构"),
                    ("account.manage", "管理账号"),
                    ("grant.manage", "管理授权与权限"),
                    ("settings.manage", "管理系统设置"),
                    ("audit.view", "查阅审计日志"),
                    ("audit.export", "导出审计日志"),
                    ("auth.require_2fa", "必须使用双因素认证"),
                ],
                max_length=40,
                verbose_name="权限",
            ),
        ),
    ]
