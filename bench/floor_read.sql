-- The floor's landed relations for bench/floor.sql: views straight over the landing files. Files are
-- found by the generator's names (ehr/<day>/<Type>[.<part>].ndjson; the real loader types FHIR lines by
-- resourceType), and only the JSON fields the metrics need are parsed (explicit `columns`). The fair
-- floor (bench/fair_floor.py) reads these column types back (`describe`) for its own views: the one
-- place they are written.

create or replace temp view landed_encounters as
select *
from read_json(
    'ehr/*/Encounter*.ndjson',
    format = 'newline_delimited',
    filename = true,
    columns = {
        'id': 'varchar',
        'meta': 'struct(lastUpdated varchar)',
        'status': 'varchar',
        'class': 'struct(code varchar)',
        'subject': 'struct(reference varchar)',
        'serviceType': 'struct(coding struct(code varchar)[])',
        'period': 'struct(start varchar, "end" varchar)',
        'statusHistory': 'struct(status varchar, period struct(start varchar, "end" varchar))[]',
        'location': 'struct(location struct(reference varchar, display varchar), '
            || 'period struct(start varchar, "end" varchar))[]',
        'hospitalization': 'struct(dischargeDisposition struct(coding struct(code varchar)[]))'
    }
);

create or replace temp view landed_locations as
select *
from read_json(
    'ehr/*/Location*.ndjson',
    format = 'newline_delimited',
    filename = true,
    columns = {
        'id': 'varchar',
        'meta': 'struct(lastUpdated varchar)',
        'type': 'struct(coding struct(system varchar, code varchar)[])[]'
    }
);

create or replace temp view landed_questionnaire_responses as
select *
from read_json(
    'ehr/*/QuestionnaireResponse*.ndjson',
    format = 'newline_delimited',
    filename = true,
    columns = {
        'id': 'varchar',
        'meta': 'struct(lastUpdated varchar)',
        'status': 'varchar',
        'encounter': 'struct(reference varchar)',
        'authored': 'varchar',
        'item': 'struct(linkId varchar, answer struct(valueInteger varchar)[])[]'
    }
);
