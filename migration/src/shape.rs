//! Shapes every migration shares: foreign keys that cascade, named indexes, and creating
//! and dropping a set of tables in dependency order.

use sea_orm_migration::prelude::*;

/// Creates `tables` in order, then `indexes`.
pub async fn create(
    manager: &SchemaManager<'_>,
    tables: Vec<TableCreateStatement>,
    indexes: Vec<IndexCreateStatement>,
) -> Result<(), DbErr> {
    for table in tables {
        manager.create_table(table).await?;
    }
    for index in indexes {
        manager.create_index(index).await?;
    }
    Ok(())
}

/// Drops `tables` in reverse order, so that no table outlives one that refers to it.
pub async fn drop(
    manager: &SchemaManager<'_>,
    tables: Vec<TableCreateStatement>,
) -> Result<(), DbErr> {
    for table in tables.iter().rev() {
        let name = table
            .get_table_name()
            .cloned()
            .ok_or_else(|| DbErr::Migration("table without a name".into()))?;
        manager
            .drop_table(Table::drop().table(name).to_owned())
            .await?;
    }
    Ok(())
}

/// A foreign key whose rows go when the row they refer to goes.
pub fn foreign_key(
    from: (impl IntoIden, impl IntoIden),
    to: (impl IntoIden, impl IntoIden),
) -> ForeignKeyCreateStatement {
    ForeignKey::create()
        .from(from.0, from.1)
        .to(to.0, to.1)
        .on_delete(ForeignKeyAction::Cascade)
        .to_owned()
}

/// A named index on `columns`, in that order.
pub fn index(name: &str, table: impl IntoIden, columns: Vec<DynIden>) -> IndexCreateStatement {
    let mut statement = Index::create().name(name).table(table).to_owned();
    for column in columns {
        statement.col(column);
    }
    statement
}

/// A named unique index: a business key.
pub fn unique_index(
    name: &str,
    table: impl IntoIden,
    columns: Vec<DynIden>,
) -> IndexCreateStatement {
    let mut statement = index(name, table, columns);
    statement.unique();
    statement
}
