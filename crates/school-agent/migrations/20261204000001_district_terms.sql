-- The district plan's terms in the latest receipt (answer deadlines, the targets of the
-- school's level), as JSON; NULL before the district adopted its plan.
ALTER TABLE district_receipt ADD COLUMN district_json TEXT;
