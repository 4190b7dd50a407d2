from pathlib import Path

from piccolo.conf.apps import AppConfig

from service.heatrelief.tables import (
    Delivery,
    DeliveryLine,
    DeliveryPhoto,
    DeliveryReach,
    DeliveryScan,
    Item,
    LedgerEntry,
    Site,
    SiteAcknowledgement,
    Stock,
    Team,
    WorkerDistrict,
)

APP_CONFIG = AppConfig(
    app_name="heatrelief",
    migrations_folder_path=str(Path(__file__).parent / "piccolo_migrations"),
    table_classes=[
        Site,
        Item,
        Stock,
        LedgerEntry,
        Team,
        Delivery,
        DeliveryLine,
        DeliveryReach,
        DeliveryScan,
        SiteAcknowledgement,
        DeliveryPhoto,
        WorkerDistrict,
    ],
    migration_dependencies=["service.activities.piccolo_app", "service.orgs.piccolo_app"],
)
