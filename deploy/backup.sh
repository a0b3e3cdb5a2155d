#!/bin/sh
# Backs up the dvbot database with MongoDB's own tool: one gzip'd mongodump archive per run,
# archives older than KEEP_DAYS removed. Restoring: README.md, "Backup and restore".
#
#   deploy/backup.sh                 # Docker Compose install: dumps through the mongo container
#   MONGODB_URI=mongodb://… deploy/backup.sh   # any other install: mongodump on this host
#
# Settings (environment): BACKUP_DIR (default /var/backups/dvbot), KEEP_DAYS (30), MONGODB_DB
# (dvbot); for Compose, MONGO_PASSWORD is read from .env in the repository folder.
# Cron, every night at 02:15:
#   15 2 * * * cd /opt/dvbot && deploy/backup.sh >> /var/log/dvbot-backup.log 2>&1
#
# The archive holds the tickets with names, addresses and phones SEALED: they open only with
# DATA_ENCRYPTION_KEYS, which is NOT in the archive. Keep the key somewhere else (a password
# manager, a sealed envelope at the Office), never in BACKUP_DIR or beside copies of it.
set -eu

BACKUP_DIR=${BACKUP_DIR:-/var/backups/dvbot}
KEEP_DAYS=${KEEP_DAYS:-30}
DB=${MONGODB_DB:-dvbot}
STAMP=$(date -u +%Y%m%dT%H%M%SZ)
FILE="$BACKUP_DIR/dvbot-$DB-$STAMP.archive.gz"

umask 077
mkdir -p "$BACKUP_DIR"

if [ -n "${MONGODB_URI:-}" ]; then
  mongodump --uri="$MONGODB_URI" --db="$DB" --gzip --archive="$FILE.part"
else
  cd "$(dirname "$0")/.."
  if [ -z "${MONGO_PASSWORD:-}" ] && [ -f .env ]; then
    MONGO_PASSWORD=$(sed -n 's/^MONGO_PASSWORD=//p' .env | tail -n 1)
  fi
  : "${MONGO_PASSWORD:?MONGO_PASSWORD is not set (add it to .env)}"
  docker compose exec -T mongo mongodump \
    --username=dvbot --password="$MONGO_PASSWORD" --authenticationDatabase=admin \
    --db="$DB" --gzip --archive >"$FILE.part"
fi

# A dump that failed half-way never looks like a good one.
mv "$FILE.part" "$FILE"
find "$BACKUP_DIR" -name 'dvbot-*.archive.gz' -type f -mtime +"$KEEP_DAYS" -delete
echo "$(date -u +%FT%TZ) backup written: $FILE ($(du -h "$FILE" | cut -f1))"
